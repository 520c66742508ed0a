#!/usr/bin/env python
"""Benchmark EG3D's neural renderer + OSG decoder, forward and backward, against a literal transcription.

Renders random tri-planes through `gen3d_nb.eg3d.fast_render.render_triplane_fast` (ours) and through
`transcribed_render` below, a step-by-step transcription of EG3D's `ImportanceRenderer.forward` written for this
benchmark (three `grid_sample` calls per point, coarse pass with gradients, importance samples, fine pass, merge and
sort of colours and densities, midpoint marcher; same random draws, no shared helpers). Checks that both give the same
features, depth, opacity and gradients (planes and decoder weights), then times forward + backward of each, alternating
the implementations round by round, and reports the median of the per-round ratios (wall clock; the ratio of process
CPU times is printed too, as it is less sensitive to other processes sharing the cores). Defaults are EG3D's FFHQ
configuration as the target states it: tri-planes 2 x 3 x 32 x 256 x 256 (batch 2), 32x32 rays, 48 + 48 samples,
softplus density clamp, decoder 32 -> 64 -> 33, gradients to the planes and the decoder.

    python bench/eg3d.py                              # the target configuration, on the CPU
    python bench/eg3d.py --device cuda                # the same on a GPU
    python bench/eg3d.py --reference                  # also time part 2's render_triplane (the readable renderer)
    python bench/eg3d.py --batch 4 --nrr 64           # EG3D's per-GPU training batch at 64x64 rays
    python bench/eg3d.py --demo-only                  # only the frame rate of the demo generator

It also reports the frame rate of the `demo` preset's generator (random weights, batch 1, no gradients) at its output
resolution: the full forward (mapping, backbone, tri-plane rendering, super-resolution) per frame, and with the
tri-planes computed once and only the camera moving (what the viewer does).

GFLOP/s counts nominal work, the same for every implementation: per sample point 2*(32*64 + 64*33) for the decoder
plus 3 planes x 32 channels x 4 taps x 2 for bilinear sampling (about 9.1 kFLOP forward), times 3 for forward +
backward, over batch x rays x (samples + importance) points. It is compared with the machine's float32 matrix-product
rate (a 1024^3 matmul on the same device and threads). Peak memory is measured per implementation in a fresh
subprocess: on CUDA torch.cuda.max_memory_allocated during one forward + backward; on the CPU the rise of the
process's resident set size to its high-water mark (/proc VmHWM, reset just before) during one forward + backward.
"""
import argparse, json, math, os, resource, statistics, subprocess, sys, time
import torch
import torch.nn.functional as F
from gen3d_nb.cameras import eg3d_lookat_c2w, eg3d_fov_to_intrinsics
from gen3d_nb.rays import get_rays
from gen3d_nb.eg3d.triplane import OSGDecoder, render_config, render_triplane
from gen3d_nb.eg3d.fast_render import render_triplane_fast

FLOP_PER_POINT = 2 * (32 * 64 + 64 * 33) + 3 * 32 * 4 * 2  # decoder MLP + bilinear sampling of 3 planes (forward)

def transcribed_render(feats, decoder, o, d, rc, g):
    "EG3D's ImportanceRenderer.forward, transcribed step by step (fixed ray_start/ray_end, orthogonal planes)."
    B, R, _ = o.shape; S, N = rc.depth_resolution, rc.depth_resolution_importance
    dev = o.device
    def run_model(z):                                                     # z (B, R, s) -> colours (B,R,s,C), densities (B,R,s)
        pts = (o[:, :, None] + z[..., None] * d[:, :, None]).reshape(B, -1, 3)
        uv = (2 / rc.box_warp) * pts
        planes = [uv[..., [0, 1]], uv[..., [0, 2]], uv[..., [1, 2]]]
        f = sum(F.grid_sample(feats[:, p], planes[p][:, None], mode='bilinear', padding_mode='zeros', align_corners=False)[:, :, 0].transpose(1, 2)
                for p in range(3)) / 3
        x = decoder.net(f)
        return (torch.sigmoid(x[..., 1:]) * 1.002 - 0.001).reshape(B, R, z.shape[-1], -1), x[..., 0].reshape(B, R, -1)
    def march(c, s, z):
        delta = z[..., 1:] - z[..., :-1]
        cm, sm, zm = (c[..., 1:, :] + c[..., :-1, :]) / 2, (s[..., 1:] + s[..., :-1]) / 2, (z[..., 1:] + z[..., :-1]) / 2
        alpha = 1 - torch.exp(-F.softplus(sm - 1) * delta)
        w = alpha * torch.cumprod(torch.cat([torch.ones_like(alpha[..., :1]), 1 - alpha + 1e-10], -1), -1)[..., :-1]
        rgb = (w[..., None] * cm).sum(-2); wt = w.sum(-1)
        depth = torch.clamp(torch.nan_to_num((w * zm).sum(-1) / wt, float('inf')), z.min(), z.max())
        return rgb * 2 - 1, depth, w
    t0 = torch.full((B, R), rc.ray_start, device=dev); t1 = torch.full((B, R), rc.ray_end, device=dev)
    zc = torch.linspace(0, 1, S, device=dev) * (t1 - t0)[..., None] + t0[..., None]
    zc = zc + torch.rand(zc.shape, generator=g, device=g.device).to(dev) * ((t1 - t0) / (S - 1))[..., None]
    u = torch.rand((B, R, N), generator=g, device=g.device).to(dev)
    cc, sc = run_model(zc)
    with torch.no_grad():
        _, _, w = march(cc, sc, zc)
        w = F.avg_pool1d(F.max_pool1d(w.reshape(B * R, 1, -1), 2, 1, padding=1), 2, 1).reshape(B, R, -1) + 0.01
        w = w[..., 1:-1] + 1e-5
        bins = ((zc[..., 1:] + zc[..., :-1]) / 2)[..., :-1]
        cdf = torch.cat([torch.zeros_like(w[..., :1]), torch.cumsum(w / w.sum(-1, keepdim=True), -1)], -1)
        idx = torch.searchsorted(cdf, u, right=True)
        lo, hi = (idx - 1).clamp(min=0), idx.clamp(max=w.shape[-1])
        c0, c1, b0, b1 = cdf.gather(-1, lo), cdf.gather(-1, hi), bins.gather(-1, lo), bins.gather(-1, hi)
        den = torch.where(c1 - c0 < 1e-5, torch.ones_like(c1), c1 - c0)
        zf = b0 + (u - c0) / den * (b1 - b0)
    cf, sf = run_model(zf)
    z_all, order = torch.sort(torch.cat([zc, zf], -1), -1)
    c_all = torch.cat([cc, cf], -2).gather(-2, order[..., None].expand(-1, -1, -1, cc.shape[-1]))
    s_all = torch.cat([sc, sf], -1).gather(-1, order)
    rgb, depth, w = march(c_all, s_all, z_all)
    return {'features': rgb, 'depth': depth, 'weights_sum': w.sum(-1)}

IMPLS = {'transcription': transcribed_render, 'gen3d_nb': render_triplane_fast,
         'part2': lambda feats, dec, o, d, rc, g: render_triplane(feats, dec, o, d, rc, g)}

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def setup(a):
    "Random planes, decoder and rays of the benchmark (seeded: every process builds the same ones)."
    dev = torch.device(a.device)
    torch.manual_seed(0)
    B, r = a.batch, a.nrr
    rc = render_config('ffhq', depth_resolution=a.samples, depth_resolution_importance=a.importance)
    feats = (torch.randn(B, 3, 32, a.plane_res, a.plane_res, device=dev) * 0.5).requires_grad_(True)
    dec = OSGDecoder(32, 64, 32).to(dev)
    yaw = torch.linspace(math.pi / 2 - 0.4, math.pi / 2 + 0.4, B)
    c2w = eg3d_lookat_c2w(yaw, torch.full((B,), math.pi / 2), 2.7, (0., 0., 0.2)).to(dev)
    o, d = get_rays(c2w, eg3d_fov_to_intrinsics(18.837, B).to(dev), r, r)
    return dev, rc, feats, dec, o, d

def fwd_bwd(name, dev, rc, feats, dec, o, d):
    out = IMPLS[name](feats, dec, o, d, rc, torch.Generator(device=dev).manual_seed(1))
    loss = out['features'].square().mean() + out['depth'].mean() * 0.1 + out['weights_sum'].mean()
    return out, torch.autograd.grad(loss, [feats] + list(dec.parameters()))

def matmul_gflops(dev, n=1024, reps=5)->float:
    "Float32 n x n x n matrix-product rate of this device (best of `reps`)."
    x, y = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
    x @ y; sync(dev); best = float('inf')
    for _ in range(reps):
        t = time.perf_counter(); x @ y; sync(dev); best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9

def peak_memory(name, a)->float:
    "MiB: peak memory of one forward + backward of `name`, measured in this (fresh) process."
    dev, rc, feats, dec, o, d = setup(a)
    if dev.type == 'cuda':
        sync(dev); torch.cuda.reset_peak_memory_stats(dev); base = torch.cuda.memory_allocated(dev)
        fwd_bwd(name, dev, rc, feats, dec, o, d); sync(dev)
        return (torch.cuda.max_memory_allocated(dev) - base) / 2**20
    base = _rss_kib('VmRSS')
    try: open('/proc/self/clear_refs', 'w').write('5')   # Linux: reset the high-water mark to the current RSS
    except OSError: pass
    fwd_bwd(name, dev, rc, feats, dec, o, d)
    return (_rss_kib('VmHWM') - base) / 1024

def _rss_kib(field:str)->float:
    "VmRSS / VmHWM of this process in KiB from /proc (Linux), else ru_maxrss (which a child inherits from its parent)."
    try:
        for line in open('/proc/self/status'):
            if line.startswith(field + ':'): return float(line.split()[1])
    except OSError: pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

def peak_in_subprocess(name, argv)->float:
    p = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, '--peak-of', name], capture_output=True, text=True)
    if p.returncode: raise RuntimeError(f'peak-memory subprocess for {name} failed: {p.stderr[-2000:]}')
    return json.loads(p.stdout.strip().splitlines()[-1])['peak_mib']

def demo_fps(dev, frames:int=24)->dict:
    "Frames per second of the demo preset's generator over a turntable of `frames` cameras: full forward, and planes cached."
    from gen3d_nb.eg3d.model import PRESETS, build
    from gen3d_nb.eg3d.inference import camera_labels, default_intrinsics
    cfg = PRESETS['demo']()
    torch.manual_seed(0)
    G = build(cfg, dev)['G'].eval().requires_grad_(False)
    yaw = math.pi / 2 + torch.arange(frames) * (2 * math.pi / frames)
    c = camera_labels(yaw, torch.full((frames,), math.pi / 2 - 0.2), cfg, default_intrinsics(cfg)[0]).to(dev)
    z = torch.randn(1, G.z_dim, device=dev)
    out = {}
    with torch.no_grad():
        ws = G.mapping(z, c[:1]); G.synthesis(ws, c[:1], noise_mode='const')     # warm-up
        for mode in ('full', 'cached'):
            sync(dev); t = time.perf_counter()
            planes = G.planes(G.mapping(z, c[:1]), noise_mode='const') if mode == 'cached' else None
            for i in range(frames):
                ws = G.mapping(z, c[i:i + 1])
                img = G.synthesis(ws, c[i:i + 1], noise_mode='const', planes=planes)['image']
            sync(dev); out[mode] = frames / (time.perf_counter() - t)
    out['resolution'], out['nrr'] = img.shape[-1], int(G.neural_rendering_resolution)
    return out

def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--batch', type=int, default=2, help='tri-plane sets (images) per pass')
    p.add_argument('--nrr', type=int, default=32, help='neural rendering resolution (rays per side)')
    p.add_argument('--samples', type=int, default=48, help='stratified samples per ray')
    p.add_argument('--importance', type=int, default=48, help='importance samples per ray')
    p.add_argument('--plane-res', type=int, default=256, help='tri-plane resolution')
    p.add_argument('--rounds', type=int, default=5, help='timing rounds (each runs every implementation once, alternating)')
    p.add_argument('--reference', action='store_true', help="also time part 2's render_triplane")
    p.add_argument('--atol', type=float, default=1e-4, help='tolerance of the output/gradient comparison')
    p.add_argument('--target', type=float, default=2.0, help='required median speed-up of gen3d_nb over the transcription')
    p.add_argument('--demo-frames', type=int, default=24, help='frames of the demo-generator frame-rate measurement (0: skip it)')
    p.add_argument('--demo-only', action='store_true', help='only measure the demo generator frame rate')
    p.add_argument('--peak-of', default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.device == 'cuda' and not torch.cuda.is_available(): sys.exit('bench/eg3d.py: error: --device cuda: CUDA is not available')
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False  # EG3D disables TF32 too
    if a.peak_of is not None:
        print(json.dumps({'peak_mib': peak_memory(a.peak_of, a)})); return
    if a.demo_frames < 0 or (a.demo_only and a.demo_frames == 0):
        sys.exit(f'bench/eg3d.py: error: --demo-frames must be >= 1 (or 0 to skip, without --demo-only), got {a.demo_frames}')
    if a.demo_only: print_demo(torch.device(a.device), a.demo_frames); return
    sub_argv = [x for x in argv]
    names = ['transcription', 'gen3d_nb'] + (['part2'] if a.reference else [])
    dev, rc, feats, dec, o, d = setup(a)
    B, r = a.batch, a.nrr
    points = B * r * r * (a.samples + a.importance)
    threads = f'{torch.get_num_threads()} threads' if dev.type == 'cpu' else torch.cuda.get_device_name(dev)
    print(f'EG3D neural renderer + OSG decoder, forward + backward on {dev.type} ({threads}): batch {B}, {r}x{r} rays, '
          f'{a.samples}+{a.importance} samples, planes {B}x3x32x{a.plane_res}x{a.plane_res}, softplus clamp, '
          f'{points / 1e6:.3f} M points')
    # Section. Equal outputs and gradients.
    res = {n: fwd_bwd(n, dev, rc, feats, dec, o, d) for n in names}
    (ob, gb) = res['transcription']
    ok = True
    for n in names[1:]:
        oa, ga = res[n]
        diffs = {k: float((oa[k] - ob[k]).detach().abs().max()) for k in ('features', 'depth', 'weights_sum')}
        diffs['grad_planes'] = float((ga[0] - gb[0]).abs().max() / gb[0].abs().max().clamp(min=1e-30))
        diffs['grad_decoder'] = max(float((x - y).abs().max() / y.abs().max().clamp(min=1e-30)) for x, y in zip(ga[1:], gb[1:]))
        good = all(v <= a.atol for v in diffs.values()); ok &= good
        print(f'{n} vs transcription, max |difference| (gradients relative to their max): '
              + ', '.join(f'{k} {v:.1e}' for k, v in diffs.items()) + ('  -> equal' if good else f'  -> DIFFERENT (atol {a.atol})'))
    del res
    # Section. Timing: every round runs each implementation once, the order alternating between rounds.
    times, cpu = {n: [] for n in names}, {n: [] for n in names}
    for k in range(a.rounds):
        for n in (names if k % 2 == 0 else names[::-1]):
            sync(dev); t, c = time.perf_counter(), time.process_time()
            fwd_bwd(n, dev, rc, feats, dec, o, d); sync(dev)
            times[n].append(time.perf_counter() - t); cpu[n].append(time.process_time() - c)
    ratios = [tb / ta for ta, tb in zip(times['gen3d_nb'], times['transcription'])]
    cpu_ratios = [tb / ta for ta, tb in zip(cpu['gen3d_nb'], cpu['transcription'])]
    mm = matmul_gflops(dev)
    peaks = {n: peak_in_subprocess(n, sub_argv) for n in names}
    print(f'machine float32 matmul (1024^3): {mm:.1f} GFLOP/s')
    for n in names:
        t = statistics.median(times[n]); gf = 3 * FLOP_PER_POINT * points / t / 1e9
        print(f'  {n:14s} median {t * 1e3:8.1f} ms (process CPU time {statistics.median(cpu[n]) * 1e3:8.1f} ms) over {a.rounds} rounds  '
              f'{gf:6.2f} GFLOP/s ({100 * gf / mm:5.2f}% of matmul)  peak {"memory" if dev.type == "cuda" else "RSS rise"} {peaks[n]:7.1f} MiB')
    med = statistics.median(ratios)
    print(f'speed-up of gen3d_nb over the transcription: median {med:.2f}x of per-round ratios '
          f'[{", ".join(f"{x:.2f}" for x in ratios)}] (target >= {a.target:g}x: {"met" if med >= a.target else "NOT met"}); '
          f'in process CPU time {statistics.median(cpu_ratios):.2f}x')
    if a.demo_frames > 0: print_demo(dev, a.demo_frames)
    if not ok: sys.exit(1)
    if med < a.target: sys.exit(3)

def print_demo(dev, frames:int):
    f = demo_fps(dev, frames)
    print(f"demo generator (preset 'demo', random weights, batch 1, {f['nrr']}x{f['nrr']} rays -> {f['resolution']}x{f['resolution']} image, "
          f"{frames} frames): full forward {f['full']:.1f} frames/s, tri-planes cached (camera moves only) {f['cached']:.1f} frames/s")

if __name__ == '__main__': main()
