//! The CPU executor's buffers, and a launch's view of those it binds, by binding name.

use crate::lower::program::Contents;
use std::sync::atomic::{AtomicI32, Ordering};

/// One buffer of a program on the CPU.
pub(super) enum CpuBuffer {
    /// The program's contents until something writes them (the synapse records of a large
    /// model are not copied unless a lesion writes them).
    Shared(Contents),
    Owned(Vec<u32>),
    /// A buffer the kernels add to with atomics, in parallel.
    Atomic(Vec<AtomicI32>),
}

impl CpuBuffer {
    /// A program buffer as built: atomics where the kernels add in parallel, zeros owned,
    /// contents shared until written.
    pub fn new(def: &crate::lower::program::Buffer) -> CpuBuffer {
        match (&def.contents, def.atomic) {
            (c, true) => CpuBuffer::atomic(c),
            (Contents::Zeroed(n), false) => CpuBuffer::Owned(vec![0; *n]),
            (c, false) => CpuBuffer::Shared(c.clone()),
        }
    }

    fn atomic(contents: &Contents) -> CpuBuffer {
        let atoms = match contents.as_words() {
            Some(words) => words.iter().map(|&w| AtomicI32::new(w as i32)).collect(),
            None => (0..contents.words()).map(|_| AtomicI32::new(0)).collect(),
        };
        CpuBuffer::Atomic(atoms)
    }

    pub fn len(&self) -> usize {
        match self {
            CpuBuffer::Shared(c) => c.words(),
            CpuBuffer::Owned(w) => w.len(),
            CpuBuffer::Atomic(a) => a.len(),
        }
    }

    /// The words, for reading. An atomic buffer has no word view; the executor never binds
    /// one as words.
    pub fn words(&self) -> &[u32] {
        match self {
            CpuBuffer::Shared(c) => c.as_words().unwrap_or(&[]),
            CpuBuffer::Owned(w) => w,
            CpuBuffer::Atomic(_) => panic!("an atomic buffer is read with `read`"),
        }
    }

    /// The words, for writing: shared contents are copied first.
    pub fn words_mut(&mut self) -> &mut [u32] {
        if let CpuBuffer::Shared(c) = self {
            let owned = match c.as_words() {
                Some(words) => words.to_vec(),
                None => vec![0; c.words()],
            };
            *self = CpuBuffer::Owned(owned);
        }
        match self {
            CpuBuffer::Owned(w) => w,
            CpuBuffer::Atomic(_) => panic!("an atomic buffer is written with `write`"),
            CpuBuffer::Shared(_) => unreachable!("copied above"),
        }
    }

    pub fn read(&self, first: usize, len: usize) -> Vec<u32> {
        match self {
            CpuBuffer::Atomic(a) => a[first..first + len]
                .iter()
                .map(|x| x.load(Ordering::Relaxed) as u32)
                .collect(),
            CpuBuffer::Shared(Contents::Zeroed(_)) => vec![0; len],
            _ => self.words()[first..first + len].to_vec(),
        }
    }

    pub fn write(&mut self, first: usize, words: &[u32]) {
        match self {
            CpuBuffer::Atomic(a) => {
                for (have, &new) in a[first..].iter().zip(words) {
                    have.store(new as i32, Ordering::Relaxed);
                }
            }
            _ => self.words_mut()[first..first + words.len()].copy_from_slice(words),
        }
    }
}

/// The buffers one launch binds, taken out by binding name: each at most once, so that a
/// kernel's twin gets its read-write bindings as disjoint mutable slices.
pub(super) struct Bound<'a> {
    names: &'static [(&'static str, crate::kernels::Access)],
    slots: Vec<Option<&'a mut CpuBuffer>>,
}

impl<'a> Bound<'a> {
    /// The buffers `bind` names (buffer indices in binding order) out of `buffers`.
    pub fn new(
        kernel: &crate::kernels::Kernel,
        bind: &[usize],
        buffers: &'a mut [CpuBuffer],
    ) -> Bound<'a> {
        let mut slots: Vec<Option<&'a mut CpuBuffer>> = bind.iter().map(|_| None).collect();
        for (i, buffer) in buffers.iter_mut().enumerate() {
            if let Some(k) = bind.iter().position(|&b| b == i) {
                slots[k] = Some(buffer);
            }
        }
        Bound {
            names: kernel.bindings,
            slots,
        }
    }

    /// Whether the kernel has a binding `name`.
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|(n, _)| *n == name)
    }

    fn take(&mut self, name: &str) -> &'a mut CpuBuffer {
        let k = self
            .names
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("the kernel has no binding `{name}`"));
        self.slots[k]
            .take()
            .unwrap_or_else(|| panic!("binding `{name}` taken twice"))
    }

    /// A read-only binding as records of `T`.
    pub fn read<T: bytemuck::Pod>(&mut self, name: &str) -> &'a [T] {
        let buffer: &'a CpuBuffer = self.take(name);
        bytemuck::cast_slice(buffer.words())
    }

    /// A read-write binding as records of `T`.
    pub fn write<T: bytemuck::Pod>(&mut self, name: &str) -> &'a mut [T] {
        bytemuck::cast_slice_mut(self.take(name).words_mut())
    }

    /// A binding of one record (a uniform, a control block).
    pub fn one<T: bytemuck::Pod>(&mut self, name: &str) -> &'a T {
        &self.read::<T>(name)[0]
    }

    /// A read-write binding of one record.
    pub fn one_mut<T: bytemuck::Pod>(&mut self, name: &str) -> &'a mut T {
        &mut self.write::<T>(name)[0]
    }

    /// An atomic binding.
    pub fn atomics(&mut self, name: &str) -> &'a [AtomicI32] {
        match self.take(name) {
            CpuBuffer::Atomic(a) => a,
            _ => panic!("binding `{name}` is not atomic"),
        }
    }

    /// An atomic binding held alone: a kernel that no other thread writes to during its
    /// launch reads and writes it as plain integers (`AtomicI32::get_mut`).
    pub fn atomics_mut(&mut self, name: &str) -> &'a mut [AtomicI32] {
        match self.take(name) {
            CpuBuffer::Atomic(a) => a,
            _ => panic!("binding `{name}` is not atomic"),
        }
    }
}
