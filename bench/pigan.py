#!/usr/bin/env python
"""Benchmark the pi-GAN generator: forward+backward speed against the machine's matmul speed, and a big chunked render.

1. Generator step at pi-GAN's reference configuration: SIREN width 256 (8 FiLM layers + colour layer), batch 4,
   32x32 images, 12 coarse + 12 fine samples per ray, both passes differentiated, CelebA curriculum cameras
   (gaussian yaw/pitch, fov 12, rays 0.88-1.12). Timed: mapping + rendering + backward of a scalar loss.
   FLOPs: 2 per multiply-add of the SIREN's linear layers, forward+backward counted as 3x the forward.
2. fp32 matmul GFLOP/s of the machine for (49152 x 256) @ (256 x 256) (one coarse pass of the reference batch
   through one hidden layer), and the ratio step GFLOP/s / matmul GFLOP/s (target >= 50%). The two are timed in
   turns (best of each) so that both see the same machine load; on CPU the ratio is also given by process CPU time,
   which other jobs on a shared machine do not distort when OMP_NUM_THREADS=1.
3. The same step with the straightforward FiLM order of operations (pi-GAN's: Linear, then gamma*x + beta, then sin,
   autograd backward), with the maximum difference of the images and gradients (same random draws) in float32, and
   of the images in float64: the fused layer (gamma folded into a batched matmul, hand-written backward) must give
   the same outputs.
4. (--big) A 512x512 render with 36+36 samples, batch 1, chunked, without gradient, in a fresh subprocess so that its
   peak resident memory (ru_maxrss) is its own: time and peak RSS (target < 4 GB on CPU).

    OMP_NUM_THREADS=1 python bench/pigan.py     # CPU, items 1-3 (one thread: robust to a loaded machine)
    python bench/pigan.py --big                 # + the 512x512 render (minutes on a laptop CPU)
    python bench/pigan.py --device cuda --big
"""
import argparse, json, math, resource, subprocess, sys, time
import torch
from gen3d_nb.pigan.networks import PiGANGenerator, sample_pigan_cameras, pigan_camera, pigan_render
from gen3d_nb.pigan.model import PRESETS

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def timeit(fn, device, repeats, warmup=1):
    "(best wall, median wall, best process CPU time) of `fn()` in seconds."
    for _ in range(warmup): fn()
    sync(device); ts, cs = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time(); fn(); sync(device)
        ts.append(time.perf_counter() - t0); cs.append(time.process_time() - c0)
    ts = sorted(ts)
    return ts[0], ts[len(ts) // 2], min(cs)

def siren_macs_per_point(G):
    "Multiply-adds per sample point of the SIREN's linear layers (FiLM layers, density head, colour layers)."
    return sum(m.weight.numel() for m in G.siren.modules() if isinstance(m, torch.nn.Linear))

def big_render(a):
    "The 512x512 36+36 render, alone in this process; prints one JSON line."
    dev = torch.device(a.device)
    torch.manual_seed(0)
    G = PiGANGenerator(width=a.width).to(dev).eval()
    c2w, K = pigan_camera(math.pi / 2 + 0.3, math.pi / 2, fov=12., device=dev)
    z = torch.randn(1, 256, device=dev)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with torch.no_grad():
        out = G(z, c2w, K, rc=pigan_render(n_samples=a.big_samples, last_back=True, jitter='none'), img_size=a.big_res, chunk=a.chunk,
                generator=torch.Generator(dev).manual_seed(0))
    sync(dev)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    res = dict(seconds=dt, peak_rss_gib=peak / 2**20, rss_before_gib=rss0 / 2**20, img=list(out['img'].shape),
               finite=bool(torch.isfinite(out['img']).all()))
    if dev.type == 'cuda': res['cuda_peak_gib'] = torch.cuda.max_memory_allocated(dev) / 2**30
    print(json.dumps(res))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--width', type=int, default=256)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--res', type=int, default=32)
    p.add_argument('--n-samples', type=int, default=12, help='coarse = fine samples per ray')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: torch default)')
    p.add_argument('--big', action='store_true', help='also run the 512x512 36+36 render in a subprocess')
    p.add_argument('--big-res', type=int, default=512)
    p.add_argument('--big-samples', type=int, default=36)
    p.add_argument('--chunk', type=int, default=4096, help='rays per pass of the big render')
    p.add_argument('--_big-only', dest='big_only', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.device == 'cuda' and not torch.cuda.is_available(): sys.exit('--device cuda: CUDA is not available')
    if a.threads: torch.set_num_threads(a.threads)
    if a.big_only: return big_render(a)
    dev = torch.device(a.device)
    print(f'device {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}')

    # Section. Generator forward + backward at the reference configuration (CelebA cameras).
    torch.manual_seed(0)
    G = PiGANGenerator(width=a.width).to(dev)
    cel = PRESETS['CelebA']()
    B, S, H = a.batch, a.n_samples, a.res
    c2w, K, _ = sample_pigan_cameras(cel.cams, B, cel.fov_deg, torch.Generator().manual_seed(0), dev)
    z = torch.randn(B, 256, device=dev)
    kw = dict(rc=pigan_render(near=cel.render.near, far=cel.render.far, n_samples=S), img_size=H, nerf_noise=0.5)
    def step(fused=True, seed=0):
        out = G(z, c2w, K, generator=torch.Generator(dev).manual_seed(seed), fused=fused, **kw)
        out['img'].square().mean().backward()
        return out
    points = B * H * H * 2 * S
    flop = 3 * 2 * siren_macs_per_point(G) * points
    M = B * H * H * S
    A, W = torch.randn(M, a.width, device=dev), torch.randn(a.width, a.width, device=dev)
    mflop = 2 * M * a.width * a.width
    # interleave the two measurements so that both see the same machine load; keep the best of each
    st, mt = [], []
    for _ in range(a.repeats):
        st.append(timeit(step, dev, 1, warmup=0 if st else 1)); mt.append(timeit(lambda: A @ W, dev, 5))
    best, med, cpu = min(t[0] for t in st), sorted(t[0] for t in st)[len(st) // 2], min(t[2] for t in st)
    mb, mcpu = min(t[0] for t in mt), min(t[2] for t in mt)
    gf, mgf = flop / best / 1e9, mflop / mb / 1e9
    print(f'generator fwd+bwd: batch {B}, {H}x{H}, {S}+{S} samples, width {a.width}: {points} points, '
          f'{flop / 1e9:.1f} GFLOP; best {best * 1e3:.0f} ms, median {med * 1e3:.0f} ms -> {gf:.1f} GFLOP/s')
    print(f'fp32 matmul ({M} x {a.width}) @ ({a.width} x {a.width}): best {mb * 1e3:.2f} ms -> {mgf:.1f} GFLOP/s')
    print(f'ratio generator / matmul (wall time): {gf / mgf:.0%} (target >= 50%)')
    if dev.type == 'cpu':  # process CPU time is robust to other jobs on the machine when threads = 1
        print(f'ratio by process CPU time: generator {flop / cpu / 1e9:.1f} GFLOP/cpu-s, matmul {mflop / mcpu / 1e9:.1f} '
              f'GFLOP/cpu-s -> {(flop / cpu) / (mflop / mcpu):.0%}')

    # Section. Same outputs as the straightforward FiLM layers (pi-GAN's order of operations), and their speed.
    G.zero_grad(); o_fast = step(True, 1); g_fast = [q.grad.clone() for q in G.parameters()]
    G.zero_grad(); o_ref = step(False, 1); g_ref = [q.grad.clone() for q in G.parameters()]
    d_img = (o_fast['img'] - o_ref['img']).abs().max().item()
    d_grad = max(((x - y).abs().max() / y.abs().max().clamp(min=1e-30)).item() for x, y in zip(g_fast, g_ref))
    G64 = PiGANGenerator(width=a.width).to(dev).double(); G64.load_state_dict(G.state_dict())
    z64, c64, K64 = z[:1].double(), c2w[:1].double(), K[:1].double()
    r64 = lambda f: G64(z64, c64, K64, fused=f, generator=torch.Generator(dev).manual_seed(2), **{**kw, 'img_size': 8})['img']
    d64 = (r64(True) - r64(False)).abs().max().item()
    rb = timeit(lambda: step(False), dev, max(2, a.repeats // 2))[0]
    print(f'straightforward FiLM: best {rb * 1e3:.0f} ms ({flop / rb / 1e9:.1f} GFLOP/s); fused is {rb / best:.2f}x faster; '
          f'max |img diff| {d_img:.2e}, max relative grad diff {d_grad:.2e} (float32); max |img diff| in float64 {d64:.1e}')

    # Section. Big chunked render in a fresh process (its own peak RSS).
    if a.big:
        cmd = [sys.executable, __file__, '--_big-only', '--device', a.device, '--width', str(a.width), '--big-res', str(a.big_res),
               '--big-samples', str(a.big_samples), '--chunk', str(a.chunk)] + (['--threads', str(a.threads)] if a.threads else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode: sys.exit(f'big render failed:\n{r.stderr}')
        res = json.loads(r.stdout.strip().splitlines()[-1])
        extra = f", CUDA peak {res['cuda_peak_gib']:.2f} GiB" if 'cuda_peak_gib' in res else ''
        print(f"render {a.big_res}x{a.big_res}, {a.big_samples}+{a.big_samples} samples, chunk {a.chunk} rays, no grad: "
              f"{res['seconds']:.1f} s, peak RSS {res['peak_rss_gib']:.2f} GiB (target < 4){extra}, finite {res['finite']}")

if __name__ == '__main__': main()
