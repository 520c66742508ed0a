#!/usr/bin/env python
"""Benchmark one uORF training step (`gen3d_nb.uorf.model.train_step` through the engine's `run_step`): wall time and
peak memory at the `demo` preset and at uORF's CLEVR-567 settings (4 views, 64x64 coarse frustum x 64 samples, 8 slots,
z_dim 40; fine stage: a 64x64 patch of the 128x128 frustum).

    python bench/uorf.py                                   # demo (coarse + fine), CPU, 3 timed steps each
    python bench/uorf.py --settings clevr_567 --device cuda
    python bench/uorf.py --settings clevr_567 --views 2 --n_samp 8    # a reduced CLEVR-567 step that fits a laptop CPU
    python bench/uorf.py --settings clevr_567 --n_samp 16 --stages coarse --steps 1   # 4 views, a quarter of the samples

Each (setting, stage) runs in a fresh process on a synthetic batch (random images, cameras on a ring at the preset's
scene scale), so no data is needed. One warm-up step, then `--steps` timed steps; the median wall time and the median
process CPU time (all threads; on a shared machine the CPU time is the figure to compare) are reported. Peak memory:
on CUDA `torch.cuda.max_memory_allocated` during the timed steps; on CPU the peak resident set size during the timed
steps (VmHWM, reset just before them) minus the resident size before them. The full CLEVR-567 step evaluates 4 x 64 x 64 x 64 x 8 = 8.4M decoder points and
needs tens of GB of activations on a CPU: uORF trained it on a 24 GB GPU.
"""
import argparse, json, math, os, resource, statistics, subprocess, sys, time

def _status_mb(key:str='VmRSS')->float:
    "A memory figure of this process from /proc/self/status (VmRSS: resident now, VmHWM: peak resident) in MB."
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'): return int(line.split()[1]) / 1024
    return float('nan')

def _reset_peak():
    "Reset the kernel's peak-RSS counter (VmHWM) of this process (Linux: write 5 to /proc/self/clear_refs)."
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
    except OSError: pass

def worker(a)->dict:
    import dataclasses, torch
    from gen3d_nb.train import get_config, make_context, run_step
    from gen3d_nb.cameras import look_at, make_K
    if a.threads: torch.set_num_threads(a.threads)
    cfg = get_config('uorf', a.setting)
    over = {k: v for k, v in dict(n_img_each_scene=a.views, n_samp=a.n_samp).items() if v is not None}
    cfg = dataclasses.replace(cfg, **over, weight_percept=0., gan=False, iters=10 ** 6)
    cfg = dataclasses.replace(cfg, coarse_epoch=10 ** 6 if a.stage == 'coarse' else 0)
    dev = torch.device(a.device)
    ctx = make_context(cfg, dev)
    g = torch.Generator().manual_seed(0)
    V, L = cfg.n_img_each_scene, cfg.load_size
    r = 0.5 * (cfg.near_plane + cfg.far_plane)                                   # cameras in the middle of the depth range
    yaw = torch.arange(V) * 2 * math.pi / V
    eye = torch.stack([r * torch.sin(yaw) * 0.8, torch.full((V,), 0.6 * r), r * torch.cos(yaw) * 0.8], -1)
    batch = dict(img=torch.rand(1, V, 3, L, L, generator=g) * 2 - 1, c2w=look_at(eye, torch.zeros(3))[None], K_norm=make_K(1.8, batch=V)[None])
    batch = {k: v.to(dev) for k, v in batch.items()}
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    run_step(ctx, batch); sync()                                                 # warm-up
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated()
    else: _reset_peak(); base = _status_mb('VmRSS')
    times, cpu = [], []
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        run_step(ctx, batch); sync(); times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    if dev.type == 'cuda': peak = (torch.cuda.max_memory_allocated() - base) / 2 ** 20
    else: peak = _status_mb('VmHWM') - base
    S = cfg.supervision_size if a.stage == 'coarse' else cfg.render_size
    return dict(setting=a.setting, stage=a.stage, device=a.device, views=V, pixels=f'{S}x{S}', n_samp=cfg.n_samp, slots=cfg.num_slots,
                z_dim=cfg.z_dim, points=V * S * S * cfg.n_samp, sec_per_step=statistics.median(times), cpu_sec_per_step=statistics.median(cpu),
                peak_mem_mb=peak)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--settings', nargs='+', default=['demo', 'clevr_567'], help='presets of gen3d_nb.uorf.model')
    ap.add_argument('--stages', nargs='+', default=['coarse', 'fine'])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0 = default)')
    ap.add_argument('--views', type=int, default=None, help='override n_img_each_scene (reduced runs)')
    ap.add_argument('--n_samp', type=int, default=None, help='override samples per ray (reduced runs)')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--setting', default=None, help=argparse.SUPPRESS); ap.add_argument('--stage', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker: print(json.dumps(worker(a))); return
    rows = []
    for s in a.settings:
        for st in a.stages:
            cmd = [sys.executable, __file__, '--worker', '--setting', s, '--stage', st, '--device', a.device, '--steps', str(a.steps),
                   '--threads', str(a.threads)] + (['--views', str(a.views)] if a.views else []) + (['--n_samp', str(a.n_samp)] if a.n_samp else [])
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                print(f'{s} {st}: failed ({p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode})'); continue
            r = json.loads(p.stdout.strip().splitlines()[-1]); rows.append(r)
            print(f"{r['setting']:10s} {r['stage']:6s} {r['device']:4s} views {r['views']} x {r['pixels']:>5s} x {r['n_samp']:3d} samples x {r['slots']} slots "
                  f"(z_dim {r['z_dim']}, {r['points'] / 1e6:.2f}M points): {r['sec_per_step']:.3f} s/step (process CPU {r['cpu_sec_per_step']:.3f} s), "
                  f"peak {r['peak_mem_mb']:.0f} MB", flush=True)
    return rows

if __name__ == '__main__': main()
