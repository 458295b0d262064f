//! `.npz` files, the format of numpy's `np.savez`: a zip archive of `.npy` arrays, one per name.
//! `Simulator::save_weights` and `Simulator::checkpoint` write them; numpy reads them
//! with `np.load(path)[name]`, and [`load_array`] / [`load_vector`] read one array back here.
//!
//! ```no_run
//! # use lamina::prelude::*;
//! # fn main() -> lamina::Result<()> {
//! // A decoded connection's learned weights (dimensions x pre neurons), doubled, as the
//! // initial transform of a `pre.neurons() -> post` connection in a fresh network.
//! let learned = lamina::io::load_array("weights.npz", "conn1")?;
//! let mut net = NefNetwork::new().with_seed(1);
//! let pre = net.ensemble("pre", Ensemble::new(100, 1))?;
//! let post = net.ensemble("post", Ensemble::new(100, 1))?;
//! net.connect(pre.neurons(), post, Connection::new().transform(learned * 2.0))?;
//! # Ok(())
//! # }
//! ```
//!
//! Files are written whole or not at all: into a temporary file next to the target, renamed
//! onto it once complete. Every failure is an [`Error`], never a panic.

use crate::error::{Error, Result};
use ndarray::{Array2, ArrayBase, ArrayD, ArrayViewD, Data, Dimension, IxDyn};
use ndarray_npy::{NpzReader, NpzWriter, ReadNpyError, ReadNpzError, WritableElement};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Reads the 2-D array `name` (float32 or float64) of an `.npz` file, as float64: for example
/// a connection's weights written by `Simulator::save_weights` (`"conn0"`, ...), ready to be
/// a connection's transform. Refuses a missing array (the error lists those the file has), an
/// array of another dimensionality or type, and a file that is not an `.npz`.
pub fn load_array(path: impl AsRef<Path>, name: &str) -> Result<Array2<f64>> {
    let mut file = NpzIn::open(path.as_ref())?;
    let a = file.floats(name)?;
    let shape = a.shape().to_vec();
    let a = a.as_standard_layout().into_owned();
    a.into_dimensionality().map_err(|_| {
        file.error(format!(
            "array `{name}` has shape {}; expected a 2-D array",
            shape_str(&shape)
        ))
    })
}

/// Reads the 1-D array `name` (float32 or float64) of an `.npz` file, as float64: for example
/// an ensemble's gains or biases written by `Simulator::save_weights` (`"ens0.gain"`,
/// `"ens0.bias"`). Errors as [`load_array`].
pub fn load_vector(path: impl AsRef<Path>, name: &str) -> Result<Vec<f64>> {
    let mut file = NpzIn::open(path.as_ref())?;
    let a = file.floats(name)?;
    if a.ndim() != 1 {
        return Err(file.error(format!(
            "array `{name}` has shape {}; expected a 1-D array",
            shape_str(a.shape())
        )));
    }
    Ok(a.iter().copied().collect())
}

/// The names of the arrays in an `.npz` file, in the order they were written.
pub fn array_names(path: impl AsRef<Path>) -> Result<Vec<String>> {
    Ok(NpzIn::open(path.as_ref())?.names)
}

/// Why an archive or an array in it cannot be read, with what to do about compression.
fn unreadable(e: &ReadNpzError) -> String {
    let text = e.to_string();
    if text.contains("Compression method not supported") {
        "it is compressed (as by np.savez_compressed), which lamina does not read; save it \
         with np.savez"
            .into()
    } else {
        format!("it is unreadable: {text}")
    }
}

/// A flat row-major buffer as an array of `shape`, to write with [`NpzOut::add`].
pub(crate) fn shaped<'a, T>(data: &'a [T], shape: &[usize]) -> Result<ArrayViewD<'a, T>> {
    ArrayViewD::from_shape(IxDyn(shape), data).map_err(|e| {
        Error::Simulation(format!(
            "{} values do not make a {} array: {e}",
            data.len(),
            shape_str(shape)
        ))
    })
}

/// An element type the state files hold, with how errors name it (numpy's dtype and its
/// descriptor).
pub(crate) trait NpyType: ndarray_npy::ReadableElement + Clone {
    const DESCRIPTION: &'static str;
}

macro_rules! npy_type {
    ($($t:ty => $d:literal),*) => {
        $(impl NpyType for $t { const DESCRIPTION: &'static str = $d; })*
    };
}
npy_type!(
    f32 => "float32 ('<f4')",
    f64 => "float64 ('<f8')",
    u8 => "uint8 ('|u1')",
    u64 => "uint64 ('<u8')",
    u32 => "uint32 ('<u4')",
    i32 => "int32 ('<i4')",
    bool => "bool ('|b1')"
);

/// A shape as numpy prints it: `()`, `(7,)`, `(2, 3)`.
pub(crate) fn shape_str(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// An `.npz` file open for reading, its array names listed.
pub(crate) struct NpzIn {
    path: PathBuf,
    reader: NpzReader<BufReader<File>>,
    names: Vec<String>,
}

impl NpzIn {
    pub(crate) fn open(path: &Path) -> Result<NpzIn> {
        let fail = |what: String| Error::File {
            path: path.to_path_buf(),
            message: format!("cannot read it: {what}"),
        };
        let file = File::open(path).map_err(|e| fail(e.to_string()))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(fail("it is a directory".into()));
        }
        let mut reader = NpzReader::new(BufReader::new(file)).map_err(|e| {
            fail(format!(
                "it is not an .npz file (a zip archive of .npy arrays): {e}"
            ))
        })?;
        let names = reader.names().map_err(|e| fail(unreadable(&e)))?;
        Ok(NpzIn {
            path: path.to_path_buf(),
            reader,
            names,
        })
    }

    /// An error about this file.
    pub(crate) fn error(&self, what: String) -> Error {
        Error::File {
            path: self.path.clone(),
            message: what,
        }
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    fn require(&self, name: &str) -> Result<()> {
        if self.has(name) {
            return Ok(());
        }
        const SHOWN: usize = 12;
        let mut listed = self
            .names
            .iter()
            .take(SHOWN)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if self.names.len() > SHOWN {
            listed += &format!(" and {} more", self.names.len() - SHOWN);
        }
        if self.names.is_empty() {
            listed = "none".into();
        }
        Err(self.error(format!("it has no array `{name}` (it has {listed})")))
    }

    fn read_error(&self, name: &str, e: ReadNpzError, want: &str) -> Error {
        match e {
            ReadNpzError::Npy(ReadNpyError::WrongDescriptor(d)) => {
                self.error(format!("array `{name}` has dtype {d}; expected {want}"))
            }
            e => self.error(format!("array `{name}`: {}", unreadable(&e))),
        }
    }

    /// Array `name` of exactly this element type (float32: `'<f4'`, uint64: `'<u8'`...).
    fn typed<T: ndarray_npy::ReadableElement>(
        &mut self,
        name: &str,
        want: &str,
    ) -> Result<ArrayD<T>> {
        self.require(name)?;
        self.reader
            .by_name::<ndarray::OwnedRepr<T>, IxDyn>(name)
            .map_err(|e| self.read_error(name, e, want))
    }

    /// Array `name` of this element type, flat in row-major order (whatever order the file
    /// keeps it in), and its shape.
    fn flat<T: ndarray_npy::ReadableElement + Clone>(
        &mut self,
        name: &str,
        want: &str,
    ) -> Result<(Vec<T>, Vec<usize>)> {
        let a = self.typed::<T>(name, want)?;
        let shape = a.shape().to_vec();
        let flat = match a.as_slice() {
            Some(flat) => flat.to_vec(),
            None => a.iter().cloned().collect(),
        };
        Ok((flat, shape))
    }

    /// Array `name` of exactly type `T` and `shape`, flat in row-major order; the error names
    /// both shapes, or both types.
    pub(crate) fn array<T: NpyType>(&mut self, name: &str, shape: &[usize]) -> Result<Vec<T>> {
        let (a, got) = self.flat::<T>(name, T::DESCRIPTION)?;
        self.check_shape(name, &got, shape)?;
        Ok(a)
    }

    /// 1-D array `name` of exactly type `T`, of any length.
    pub(crate) fn vector<T: NpyType>(&mut self, name: &str) -> Result<Vec<T>> {
        let (a, got) = self.flat::<T>(name, T::DESCRIPTION)?;
        self.check_1d(name, &got)?;
        Ok(a)
    }

    /// Refuses a file without the array `marker` its writer puts first (it is then not
    /// `kind`), or whose layout version in it is not `version` (`format` names the layout).
    pub(crate) fn check_version(
        &mut self,
        marker: &str,
        kind: &str,
        format: &str,
        version: u64,
    ) -> Result<()> {
        if !self.has(marker) {
            return Err(self.error(format!("it is not {kind} (no `{marker}` array)")));
        }
        let theirs = self.array::<u64>(marker, &[])?[0];
        if theirs != version {
            return Err(self.error(format!(
                "its {format} format is version {theirs}; this lamina reads version {version}"
            )));
        }
        Ok(())
    }

    /// Compares the file's `fingerprint` array with `ours` (`names` say what each entry is)
    /// and refuses the first difference: "{mismatch}: {name} {theirs} there, {ours} here",
    /// then `advice`.
    pub(crate) fn check_fingerprint(
        &mut self,
        names: &[&str],
        ours: &[u64],
        mismatch: &str,
        advice: &str,
    ) -> Result<()> {
        let theirs = self.array::<u64>("fingerprint", &[names.len()])?;
        for ((what, theirs), ours) in names.iter().zip(theirs).zip(ours) {
            if theirs != *ours {
                return Err(self.error(format!(
                    "{mismatch}: {what} {theirs} there, {ours} here{advice}"
                )));
            }
        }
        Ok(())
    }

    /// The step counter in the scalar array `name`, refused above the u32 steps a simulator
    /// counts.
    pub(crate) fn step_counter(&mut self, name: &str) -> Result<u64> {
        let steps = self.array::<u64>(name, &[])?[0];
        if steps > u32::MAX as u64 {
            return Err(self.error(format!(
                "its step counter {steps} exceeds the u32 steps a simulator counts"
            )));
        }
        Ok(steps)
    }

    fn check_1d(&self, name: &str, got: &[usize]) -> Result<()> {
        if got.len() == 1 {
            return Ok(());
        }
        Err(self.error(format!(
            "array `{name}` has shape {}; expected a 1-D array",
            shape_str(got)
        )))
    }

    /// Array `name`, float64 or float32 (widened exactly), of any shape.
    pub(crate) fn floats(&mut self, name: &str) -> Result<ArrayD<f64>> {
        self.require(name)?;
        match self.reader.by_name::<ndarray::OwnedRepr<f64>, IxDyn>(name) {
            Ok(a) => Ok(a),
            Err(ReadNpzError::Npy(ReadNpyError::WrongDescriptor(_))) => Ok(self
                .typed::<f32>(name, "float64 ('<f8') or float32 ('<f4')")?
                .mapv(f64::from)),
            Err(e) => Err(self.read_error(name, e, "float64 or float32")),
        }
    }

    /// Array `name` as float32 values of exactly `shape`, from float32 (exact) or float64
    /// (rounded to the nearest float32; values too large for a float32 are refused).
    pub(crate) fn floats_as_f32(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let a = self.floats(name)?;
        self.check_shape(name, a.shape(), shape)?;
        if let Some(bad) = a
            .iter()
            .find(|v| !(v.is_finite() && (**v as f32).is_finite()))
        {
            return Err(self.error(format!(
                "array `{name}` holds {bad}; values must be finite float32s"
            )));
        }
        Ok(a.iter().map(|&v| v as f32).collect())
    }

    pub(crate) fn check_shape(&self, name: &str, got: &[usize], want: &[usize]) -> Result<()> {
        if got == want {
            return Ok(());
        }
        Err(self.error(format!(
            "array `{name}` has shape {} in the file; this network needs {}",
            shape_str(got),
            shape_str(want)
        )))
    }
}

/// The arrays of an `.npz` file being written (see [`write_npz`]).
pub struct NpzOut {
    writer: NpzWriter<BufWriter<File>>,
    path: PathBuf,
}

impl NpzOut {
    /// Adds array `name` (numpy reads it as `np.load(path)[name]`).
    pub fn add<T, S, D>(&mut self, name: &str, array: &ArrayBase<S, D>) -> Result<()>
    where
        T: WritableElement,
        S: Data<Elem = T>,
        D: Dimension,
    {
        self.writer.add_array(name, array).map_err(|e| Error::File {
            path: self.path.clone(),
            message: format!("cannot write it: array `{name}`: {e}"),
        })
    }
}

/// Gives every temporary file of this process its own name.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Removes the temporary files that earlier writes of `name` in `dir` left behind when their
/// process was killed mid-write (`.{name}.{pid}-{k}.tmp` of a process that is gone). Files of
/// a live process, this one's included, are left alone; so is everything where it cannot be
/// told whether the process lives (no `/proc`).
fn remove_stale_temps(dir: &Path, name: &str) {
    let proc_fs = Path::new("/proc/self");
    if !proc_fs.exists() {
        return;
    }
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes an uncompressed `.npz` at `path` (as `np.savez`; no `.npz` is appended), with the
/// arrays `fill` adds. The file appears whole or not at all: the arrays go to a temporary
/// file in the same directory (`.NAME.PID-N.tmp`), which is flushed to disk and renamed onto
/// `path`; on any failure the temporary file is removed and `path` is left as it was.
///
/// ```no_run
/// let t = ndarray::arr1(&[0.0, 0.1, 0.2]);
/// lamina::io::write_npz("out.npz".as_ref(), |out| out.add("t", &t))?;
/// # Ok::<(), lamina::Error>(())
/// ```
pub fn write_npz(path: &Path, fill: impl FnOnce(&mut NpzOut) -> Result<()>) -> Result<()> {
    let fail = |what: String| Error::File {
        path: path.to_path_buf(),
        message: format!("cannot write it: {what}"),
    };
    let name = path
        .file_name()
        .ok_or_else(|| fail("the path does not name a file".into()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    remove_stale_temps(dir, &name.to_string_lossy());
    let temp = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
    ));
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| {
            fail(format!(
                "cannot create a temporary file in {}: {e}",
                dir.display()
            ))
        })?;
    let written = (|| {
        let mut out = NpzOut {
            writer: NpzWriter::new(BufWriter::new(file)),
            path: path.to_path_buf(),
        };
        fill(&mut out)?;
        let file = out
            .writer
            .finish()
            .map_err(|e| fail(e.to_string()))?
            .into_inner()
            .map_err(|e| fail(e.error().to_string()))?;
        file.sync_all().map_err(|e| fail(e.to_string()))?;
        drop(file);
        std::fs::rename(&temp, path).map_err(|e| {
            fail(format!(
                "cannot move the finished temporary file onto it: {e}"
            ))
        })
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
