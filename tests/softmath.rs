//! The WGSL soft math (shaders/shared/softmath.wgsl) gives the same bits on the GPU as its Rust
//! twin (exec::cpu::softmath) for every input tried: edge cases, random bit patterns (NaN,
//! infinities and subnormals included) and the ranges each function is made for.

mod common;

use lamina::exec::gpu::context;
use lamina::exec::GpuOptions;
use lamina::softmath;
use lamina::wgsl;
use wgpu::util::DeviceExt;

const KERNEL: &str = r#"
@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(1) var<storage, read> xs: array<u32>;
@group(0) @binding(2) var<storage, read> ys: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_exp: array<u32>;
@group(0) @binding(4) var<storage, read_write> out_expm1: array<u32>;
@group(0) @binding(5) var<storage, read_write> out_ln: array<u32>;
@group(0) @binding(6) var<storage, read_write> out_ln1p: array<u32>;
@group(0) @binding(7) var<storage, read_write> out_recip: array<u32>;
@group(0) @binding(8) var<storage, read_write> out_div: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if i >= arrayLength(&xs) {
        return;
    }
    let x = bitcast<f32>(xs[i]);
    let y = bitcast<f32>(ys[i]);
    out_exp[i] = bitcast<u32>(soft_exp(x));
    out_expm1[i] = bitcast<u32>(soft_expm1(x));
    out_ln[i] = bitcast<u32>(soft_ln(x));
    out_ln1p[i] = bitcast<u32>(soft_ln1p(x));
    out_recip[i] = bitcast<u32>(soft_recip(x));
    out_div[i] = bitcast<u32>(soft_div(x, y));
}
"#;

fn source() -> String {
    let mut s = String::new();
    for path in [
        "shared/types.wgsl",
        "shared/rounding.wgsl",
        "shared/softmath.wgsl",
    ] {
        s.push_str(wgsl::shared_source(path).expect(path));
        s.push('\n');
    }
    s.push_str(KERNEL);
    s
}

/// SplitMix64: deterministic inputs without a dependency.
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f32 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (lo + (hi - lo) * u) as f32
    }
    /// |x| in [2^lo, 2^hi), random mantissa, random sign.
    fn log_uniform(&mut self, lo: i32, hi: i32) -> f32 {
        let r = self.next();
        let e = lo + (r % (hi - lo) as u64) as i32;
        let sign = ((r >> 63) as u32) << 31;
        f32::from_bits(sign | (((e + 127) as u32) << 23) | ((r >> 32) as u32 & 0x7f_ffff))
    }
    fn any(&mut self) -> f32 {
        match self.next() % 8 {
            0 => f32::from_bits(self.next() as u32), // any bits: NaN, inf, subnormal
            1 => self.uniform(-90.0, 90.0),
            2 => self.uniform(-32.0, 90.0),
            3 => self.uniform(-1.0, 1.0),
            4 => self.uniform(0.5, 2.0),
            5 => self.uniform(-1.0, 100.0),
            6 => self.log_uniform(-126, 128),
            _ => self.log_uniform(-40, 7),
        }
    }
}

fn edges() -> Vec<f32> {
    let mut v: Vec<f32> = [
        0x0000_0000u32,
        0x8000_0000,
        0x0000_0001,
        0x8000_0001,
        0x007f_ffff,
        0x0080_0000,
        0x8080_0000,
        0x7f7f_ffff,
        0xff7f_ffff,
        0x7f80_0000,
        0xff80_0000,
        0x7fc0_0000,
        0xffc0_0000,
        0x7f80_0001,
        0x42b1_7217,
        0x42b1_7218,
        0xc2af_0000,
        0xc1f0_0000,
        0x3f00_0000,
        0xbf00_0000,
        0x3f80_0000,
        0xbf80_0000,
        0xbf7f_ffff,
        0x3fb5_04f3,
        0x3fb5_04f2,
    ]
    .into_iter()
    .map(f32::from_bits)
    .collect();
    v.extend([-87.3f32, -87.34, -88.0, -17.0, 1e-7, -1e-7, 1e-30, -1e-30]);
    for k in -126..=127 {
        v.push(2f32.powi(k));
        v.push(-(2f32.powi(k)));
    }
    v
}

fn inputs() -> (Vec<f32>, Vec<f32>) {
    let mut g = Gen(0x50f7);
    let e = edges();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    // Every pair of edge cases for div, each edge case once per unary function.
    for &a in &e {
        for &b in &e {
            xs.push(a);
            ys.push(b);
        }
    }
    for _ in 0..400_000 {
        xs.push(g.any());
        ys.push(g.any());
    }
    (xs, ys)
}

type Twin = (&'static str, fn(f32, f32) -> f32);

const TWINS: [Twin; 6] = [
    ("exp", |x, _| softmath::exp(x)),
    ("expm1", |x, _| softmath::expm1(x)),
    ("ln", |x, _| softmath::ln(x)),
    ("ln1p", |x, _| softmath::ln1p(x)),
    ("recip", |x, _| softmath::recip(x)),
    ("div", softmath::div),
];

#[test]
fn softmath_wgsl_validates() {
    let src = source();
    wgsl::validate("softmath_test", &src).unwrap();
}

#[test]
fn gpu_softmath_matches_cpu_bit_for_bit() {
    if common::gpu_or_skip().is_none() {
        return;
    }
    let ctx = context::open(&GpuOptions::from_env()).unwrap();
    eprintln!("adapter: {}", context::describe(&ctx.info));
    let (xs, ys) = inputs();
    let n = xs.len();
    let src = source();
    wgsl::validate("softmath_test", &src).unwrap();
    let device = &ctx.device;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("softmath_test"),
        source: wgpu::ShaderSource::Wgsl(src.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("softmath_test"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    // Globals: 16 u32, all zero (`zero` must be 0).
    let globals = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("globals"),
        contents: bytemuck::cast_slice(&[0u32; 16]),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let input = |label, v: &[f32]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(v),
            usage: wgpu::BufferUsages::STORAGE,
        })
    };
    let xb = input("xs", &xs);
    let yb = input("ys", &ys);
    let bytes = (n * 4) as u64;
    let outs: Vec<wgpu::Buffer> = TWINS
        .iter()
        .map(|(name, _)| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(name),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        })
        .collect();
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("staging"),
        size: bytes * TWINS.len() as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut entries = vec![&globals, &xb, &yb];
    entries.extend(outs.iter());
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("softmath_test"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect::<Vec<_>>(),
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(n.div_ceil(64) as u32, 1, 1);
    }
    for (i, out) in outs.iter().enumerate() {
        encoder.copy_buffer_to_buffer(out, 0, &staging, i as u64 * bytes, bytes);
    }
    ctx.queue.submit([encoder.finish()]);
    let slice = staging.slice(..);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("waiting for the GPU");
    rx.recv().unwrap().expect("mapping the results");
    let got: Vec<u32> = bytemuck::pod_collect_to_vec(&slice.get_mapped_range().unwrap());
    staging.unmap();
    ctx.check("running the softmath test kernel").unwrap();

    let mut failures = Vec::new();
    for (f, (name, twin)) in TWINS.iter().enumerate() {
        let gpu = &got[f * n..(f + 1) * n];
        let mut bad = (0..n).filter(|&i| gpu[i] != twin(xs[i], ys[i]).to_bits());
        if let Some(i) = bad.next() {
            let cpu = twin(xs[i], ys[i]).to_bits();
            let args = if *name == "div" {
                format!(
                    "{:e} (0x{:08x}), {:e} (0x{:08x})",
                    xs[i],
                    xs[i].to_bits(),
                    ys[i],
                    ys[i].to_bits()
                )
            } else {
                format!("{:e} (0x{:08x})", xs[i], xs[i].to_bits())
            };
            failures.push(format!(
                "{name}({args}): GPU 0x{:08x} ({:e}), CPU 0x{cpu:08x} ({:e}); {} inputs differ",
                gpu[i],
                f32::from_bits(gpu[i]),
                f32::from_bits(cpu),
                1 + bad.count()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "on {} the GPU differs from the CPU twin over {n} inputs:\n{}",
        context::describe(&ctx.info),
        failures.join("\n")
    );
    eprintln!("{n} inputs x {} functions: identical bits", TWINS.len());
}
