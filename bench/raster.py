#!/usr/bin/env python
"""Benchmark the tiled mesh rasterizer against the dense (every face x every pixel) reference.

Times forward + backward of a soft silhouette and a soft RGB render (`gen3d_nb.raster`: `rasterize` with bins vs
`rasterize_dense`, then `sigmoid_silhouette` and `softmax_rgb_blend` of interpolated vertex colours; loss = a fixed random
weighting of both images, gradients w.r.t. vertex positions and colours). Default workload: a wobbled icosphere of 5120
faces, 256x256, batch 4, K = 8 faces per pixel, sigma = gamma = 1e-4 (blur radius log(1/1e-4 - 1) sigma).

    python bench/raster.py                        # CPU, 3 rounds
    python bench/raster.py --device cuda --rounds 5
    python bench/raster.py --level 5 --batch 1 --variants tiled   # a 20480-face mesh, one 256x256 image
    python bench/raster.py --dense-pass chunk     # dense at the tiled pass budget: equal memory, much slower
    python bench/raster.py --res 64 --dense-pass batch   # dense with the whole batch at once (256x256 x 4 needs > 24 GB)

The dense baseline (`--dense-pass image`, the default) is the straightforward vectorised transcription: every face is tested
against every pixel of an image in one pass (F x H x W pairs at once, image by image). Chunked to the tiled rasterizer's pass
budget (`--dense-pass chunk`) it needs the same memory as the tiled one (the differentiable pass is shared) but its time
grows further; the whole batch at once (`--dense-pass batch`) does not fit in 24 GB at the default size.

Every (round, variant) runs in a fresh process, tiled and dense alternating (the order flips every round), and reports
its wall time and peak memory: on CUDA `torch.cuda.max_memory_allocated` above the memory held before the render; on CPU
the process's peak resident set size (`resource.getrusage` ru_maxrss) minus its resident size just before the render
(inputs built, nothing rendered yet). The summary gives each variant's median and the median over rounds of the per-round
ratios (dense / tiled for time, tiled / dense for memory). The two variants' silhouettes, images and gradients are
compared and must be equal (they choose the same faces and share the differentiable pass, so they are bit-identical).
"""
import argparse, json, math, os, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path

def _rss_mb()->float:
    "Current resident set size of this process in MB (Linux /proc)."
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024
    return float('nan')

def _maxrss_mb()->float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != 'darwin' else r / 2 ** 20

def worker(a)->dict:
    "One variant, one render, in this (fresh) process: time, peak memory, and the outputs saved to a.out."
    import torch
    from gen3d_nb.cameras import look_at, make_K
    from gen3d_nb.mesh import icosphere
    from gen3d_nb.raster import (rasterize, rasterize_dense, blur_radius_for, sigmoid_silhouette, softmax_rgb_blend,
                                 BlendParams, interpolate_vertex_attrs, _prepare, bin_faces, DEFAULT_BIN_SIZE)
    if a.threads: torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    g = torch.Generator().manual_seed(0)
    m = icosphere(a.level, 0.5)
    v0, faces = m.verts_packed(), m.faces_packed()
    B, H = a.batch, a.res
    verts = (v0[None] * (1 + 0.08 * torch.randn(B, len(v0), 1, generator=g))).to(dev).requires_grad_()
    cols = torch.rand(B, len(v0), 3, generator=g).to(dev).requires_grad_()
    eye = torch.randn(B, 3, generator=g); eye = 2.2 * eye / eye.norm(dim=-1, keepdim=True)
    c2w, K = look_at(eye).to(dev), make_K(1.75, batch=B).to(dev)
    w_sil, w_rgb = torch.rand(B, H, H, generator=g).to(dev), torch.rand(B, 4, H, H, generator=g).to(dev)
    faces = faces.to(dev)
    bp = BlendParams(sigma=a.sigma, gamma=a.sigma)
    blur = blur_radius_for(a.sigma)
    bs = a.bin_size or DEFAULT_BIN_SIZE
    dense_pairs = {'chunk': a.max_pairs, 'batch': None, 'image': len(faces) * H * H}[a.dense_pass]   # pairs per dense pass

    def run():
        if a.variant == 'tiled': fr = rasterize(verts, faces, c2w, K, H, H, a.K, blur, bin_size=bs, max_pairs=a.max_pairs)
        else: fr = rasterize_dense(verts, faces, c2w, K, H, H, a.K, blur, max_pairs=dense_pairs)
        sil = sigmoid_silhouette(fr, bp.sigma)
        rgb = softmax_rgb_blend(interpolate_vertex_attrs(fr, faces, cols), fr, bp)
        loss = (sil * w_sil).sum() + (rgb * w_rgb).sum()
        gv, gc = torch.autograd.grad(loss, (verts, cols))
        return sil.detach(), rgb.detach(), gv, gc

    def sync():
        if dev.type == 'cuda': torch.cuda.synchronize(dev)
    if dev.type == 'cuda':
        sync(); torch.cuda.reset_peak_memory_stats(dev); base = torch.cuda.memory_allocated(dev)
    else: base = _rss_mb()
    t0 = time.perf_counter(); outs = run(); sync(); dt = time.perf_counter() - t0
    peak = (torch.cuda.max_memory_allocated(dev) - base) / 2 ** 20 if dev.type == 'cuda' else _maxrss_mb() - base
    with torch.no_grad():                                     # (pixel, face) pairs each variant tests
        fv, keep = _prepare(verts.detach(), faces, c2w, K, H, H, 'perspective', False)
        count = bin_faces(fv, keep, H, H, bs, blur)[2]
        pairs = int(count.sum()) * bs * bs if a.variant == 'tiled' else B * len(faces) * H * H
    torch.save({k: t.cpu() for k, t in zip(('sil', 'rgb', 'grad_verts', 'grad_colors'), outs)}, a.out)
    return dict(variant=a.variant, seconds=dt, peak_mb=peak, pairs=pairs, faces=len(faces), threads=torch.get_num_threads())

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--level', type=int, default=4, help='icosphere level: 20 * 4**level faces (4: 5120, 5: 20480)')
    p.add_argument('--res', type=int, default=256, help='image side in pixels')
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--K', type=int, default=8, help='faces per pixel')
    p.add_argument('--sigma', type=float, default=1e-4, help='silhouette and blend softness (gamma = sigma)')
    p.add_argument('--bin-size', type=int, default=None, help='tile side in pixels (default: gen3d_nb.raster.DEFAULT_BIN_SIZE)')
    p.add_argument('--max-pairs', type=int, default=2 ** 18, help='(pixel, face) pairs per pass (tiled, and dense unless --dense-max-pairs)')
    p.add_argument('--dense-pass', default='image', choices=['image', 'chunk', 'batch'],
                   help="dense variant's pass: every pair of one image at once (image), --max-pairs pairs (chunk), the whole batch at once (batch)")
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--variants', default='tiled,dense', help='comma-separated subset of tiled,dense')
    p.add_argument('--threads', type=int, default=0, help='torch threads per worker (0: torch default)')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--variant', default='tiled', help=argparse.SUPPRESS)
    p.add_argument('--out', default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker: print(json.dumps(worker(a))); return
    if a.device == 'cuda':
        import torch
        if not torch.cuda.is_available(): sys.exit('--device cuda: CUDA is not available')
    variants = [v for v in a.variants.split(',') if v]
    if not variants or any(v not in ('tiled', 'dense') for v in variants): sys.exit(f'--variants must list tiled and/or dense, got {a.variants!r}')
    fwd = [x for x in (argv if argv is not None else sys.argv[1:]) if x not in ('--worker',)]
    tmp = Path(tempfile.mkdtemp(prefix='bench_raster_'))
    res = {v: [] for v in variants}
    print(f'raster benchmark: icosphere level {a.level} ({20 * 4 ** a.level} faces), {a.res}x{a.res}, batch {a.batch}, K={a.K}, '
          f'sigma=gamma={a.sigma:g}, device {a.device}, tiled max_pairs {a.max_pairs}, dense pass: '
          f'{dict(image="every pair of one image at once", chunk="max_pairs pairs", batch="the whole batch at once")[a.dense_pass]}, {a.rounds} rounds', flush=True)
    for r in range(a.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        for v in order:
            out = tmp / f'{v}_{r}.pt'
            cmd = [sys.executable, os.path.abspath(__file__), *fwd, '--worker', '--variant', v, '--out', str(out)]
            pr = subprocess.run(cmd, capture_output=True, text=True)
            if pr.returncode != 0: sys.exit(f'worker {v} failed:\n{pr.stderr[-3000:]}')
            d = json.loads(pr.stdout.strip().splitlines()[-1]); res[v].append(d)
            print(f'  round {r}: {v:5s} {d["seconds"]:8.2f} s  peak +{d["peak_mb"]:7.0f} MB  ({d["pairs"]:,} pairs tested, {d["threads"]} threads)', flush=True)
    import torch
    if len(variants) == 2:
        for r in range(a.rounds):
            x, y = torch.load(tmp / f'tiled_{r}.pt'), torch.load(tmp / f'dense_{r}.pt')
            for k in x:
                if not torch.equal(x[k], y[k]):
                    diff = float((x[k] - y[k]).abs().max())
                    assert torch.allclose(x[k], y[k], rtol=1e-5, atol=1e-6), f'round {r}: {k} differs between tiled and dense (max |diff| {diff:.3g})'
                    print(f'  round {r}: {k} equal to {diff:.2g} (not bit-identical)')
        print('outputs: silhouettes, images and gradients of tiled and dense are equal in every round')
    for v in variants:
        t, m = [d['seconds'] for d in res[v]], [d['peak_mb'] for d in res[v]]
        print(f'{v:5s}: median {statistics.median(t):.2f} s, peak memory median +{statistics.median(m):.0f} MB, '
              f'{res[v][0]["pairs"]:,} (pixel, face) pairs')
    if len(variants) == 2:
        tr = [d['seconds'] / t['seconds'] for d, t in zip(res['dense'], res['tiled'])]
        mr = [t['peak_mb'] / d['peak_mb'] for d, t in zip(res['dense'], res['tiled'])]
        print(f'tiled is {statistics.median(tr):.1f}x faster (median of per-round dense/tiled time ratios {[round(x, 1) for x in tr]}), '
              f'uses {statistics.median(mr):.2f}x the memory of dense (per round {[round(x, 2) for x in mr]}), '
              f'tests {res["dense"][0]["pairs"] / res["tiled"][0]["pairs"]:.0f}x fewer pairs')

if __name__ == '__main__': main()
