#!/usr/bin/env python
"""Benchmark the gen3d_nb ray renderer: rays/s and samples/s, and peak memory.

Measures ray generation + stratified sampling + importance sampling + compositing at 128x128 with 48+48
samples per ray (batch 1) through `gen3d_nb.render.render_rays`, with a cheap analytic density
(`sphere_field`) so that the renderer, not a network, is what is timed. Also times each stage alone.

    python bench/render.py --device cpu
    python bench/render.py --device cuda --res 256 --compositor mip

Peak memory: on CUDA, torch.cuda.max_memory_allocated during one render (after reset_peak_memory_stats);
on CPU, the increase of the process's peak resident set size (resource.getrusage ru_maxrss) over one render,
measured before any other render ran in the process (tracemalloc does not see torch's allocator).
"""
import argparse, resource, sys, time
import torch
from gen3d_nb.cameras import look_at, intrinsics_from_fov
from gen3d_nb.rays import get_rays, ray_bounds, stratified, importance_nerf, importance_eg3d, merge_samples
from gen3d_nb.render import render_rays, composite_nerf, composite_mip, sphere_field

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def timeit(fn, device, repeats):
    "(best, median) wall time of `fn()` over `repeats` runs (after one warm-up), in seconds."
    fn(); sync(device); ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); fn(); sync(device); ts.append(time.perf_counter() - t0)
    ts = sorted(ts)
    return ts[0], ts[len(ts) // 2]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--res', type=int, default=128, help='image side in pixels')
    p.add_argument('--n-samples', type=int, default=48, help='coarse samples per ray')
    p.add_argument('--n-importance', type=int, default=48, help='fine samples per ray')
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--compositor', default='nerf', choices=['nerf', 'mip'])
    p.add_argument('--chunk', type=int, default=None, help='rays per pass (default: all)')
    p.add_argument('--repeats', type=int, default=7)
    p.add_argument('--dtype', default='float32', choices=['float32', 'float64'])
    a = p.parse_args(argv)
    if a.device == 'cuda' and not torch.cuda.is_available(): sys.exit('--device cuda: CUDA is not available')
    dev, dt = torch.device(a.device), getattr(torch, a.dtype)
    B, H = a.batch, a.res; R = H * H; S, Sf = a.n_samples, a.n_importance
    c2w = look_at(torch.tensor([[0., 0.4, 2.5]], dtype=dt).repeat(B, 1)).to(dev)
    K = intrinsics_from_fov(30., B, dtype=dt).to(dev)
    g = torch.Generator(device=dev).manual_seed(0)
    comp = composite_nerf if a.compositor == 'nerf' else composite_mip
    imp = importance_nerf if a.compositor == 'nerf' else importance_eg3d

    def full():
        o, d = get_rays(c2w, K, H, H)
        return render_rays(sphere_field, o, d, None, None, S, Sf, compositor=a.compositor, chunk=a.chunk, generator=g)

    # peak memory of one render (first render in this process)
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev); base = torch.cuda.memory_allocated(dev)
        full(); sync(dev); peak = torch.cuda.max_memory_allocated(dev) - base
        mem_how = 'torch.cuda.max_memory_allocated - allocated before'
    else:
        r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        full(); peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - r0) * 1024  # ru_maxrss is in KiB on Linux
        mem_how = 'increase of ru_maxrss (peak RSS) over the first render'

    # stage inputs
    o, d = get_rays(c2w, K, H, H)
    tn, tf, hit = ray_bounds(o, d, None, None)
    z = stratified(tn, tf, S, 'one_sided', g)
    pts = (o[:, :, None] + z[..., None] * d[:, :, None]).reshape(B, R * S, 3)
    rgb, sig = sphere_field(pts); rgb, sig = rgb.reshape(B, R, S, 3), sig.reshape(B, R, S)
    w = comp(rgb, sig, z)['weights']
    zf = imp(z, w, Sf, generator=g)
    rgb_f, sig_f = sphere_field((o[:, :, None] + zf[..., None] * d[:, :, None]).reshape(B, R * Sf, 3))
    rgb_f, sig_f = rgb_f.reshape(B, R, Sf, 3), sig_f.reshape(B, R, Sf)
    zm, sm, cm = merge_samples(z, zf, (sig, sig_f), (rgb, rgb_f))
    stages = [
        ('rays (get_rays + ray_box)', lambda: ray_bounds(*get_rays(c2w, K, H, H), None, None), R),
        ('stratified sampling', lambda: stratified(tn, tf, S, 'one_sided', g), R),
        (f'field (analytic), {S} samples', lambda: sphere_field(pts), R),
        (f'composite_{a.compositor}, {S} samples', lambda: comp(rgb, sig, z), R),
        (f'importance ({imp.__name__})', lambda: imp(z, w, Sf, generator=g), R),
        ('merge_samples', lambda: merge_samples(z, zf, (sig, sig_f), (rgb, rgb_f)), R),
        (f'composite_{a.compositor}, {S + Sf} samples', lambda: comp(cm, sm, zm), R),
        (f'full render_rays ({S}+{Sf})', full, R),
    ]
    print(f'gen3d_nb render benchmark: device={dev} ({torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{torch.get_num_threads()} threads"}), '
          f'dtype={a.dtype}, batch={B}, {H}x{H} rays, {S}+{Sf} samples, compositor={a.compositor}, chunk={a.chunk}, torch {torch.__version__}')
    print(f'{"stage":<36} {"best ms":>9} {"median ms":>10} {"Mrays/s":>9} {"Msamples/s":>11}')
    for name, fn, n_rays in stages:
        best, med = timeit(fn, dev, a.repeats)
        print(f'{name:<36} {1e3 * best:9.2f} {1e3 * med:10.2f} {B * n_rays / best / 1e6:9.3f} {B * n_rays * (S + Sf) / best / 1e6:11.2f}')
    print(f'peak memory of one full render: {peak / 2**20:.1f} MiB ({mem_how})')
    print(f'(rates use the best of {a.repeats} runs; Msamples/s counts all S+Sf samples per ray in every row, so rows compare as per-ray costs)')

if __name__ == '__main__': main()
