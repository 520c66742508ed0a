#!/usr/bin/env python
"""Benchmark gen3d_nb's data path: synthetic generation images/s and loader images/s (folder and zip).

1. Generation: `gen3d_nb.synthetic.write_dataset` at 64x64 (render + PNG/mask writing + occupancy grid 32^3 +
   2048 surface points per object, everything the CLI does), one view per object, with 1 and with 2 worker processes
   (target >= 20 images/s on 2 cores). Process start-up is included.
2. Loading: `gen3d_nb.data.PosedImageDataset` reading every item (PNG decode, label, mask) of the written folder and
   of the same data packed into an uncompressed zip (`gen3d_nb.data.zip_folder`, ZIP_STORED, like `zip -0 -r`),
   through a `torch.utils.data.DataLoader` with batch 64 and 0 and 2 workers (target >= 2000 images/s at 64x64).
   Best of `--repeats` passes over the dataset; the first pass (cold page cache) is not counted.

    python bench/data.py                         # 200 images per generation run, 2000 images for the loaders
    python bench/data.py --category head --n-gen 400 --n-load 4000

Wall-clock rates depend on how busy the machine is; the rates per CPU-second (process + worker CPU time) do not,
and on an idle machine with 2 cores the 2-worker wall rate approaches twice the 1-worker rate per CPU-second.
"""
import argparse, os, resource, shutil, tempfile, time
from pathlib import Path
import torch
from torch.utils.data import DataLoader
from gen3d_nb.synthetic import write_dataset
from gen3d_nb.data import PosedImageDataset, zip_folder

def cpu_seconds():
    "CPU time (user + system) of this process and its reaped children."
    return sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ('ru_utime', 'ru_stime'))

def gen_rate(category, n, res, workers, out):
    "(images per wall-clock second, images per CPU second)."
    shutil.rmtree(out, ignore_errors=True)
    t, c = time.perf_counter(), cpu_seconds()
    write_dataset(category, n, res, out, seed=0, workers=workers)
    return n / (time.perf_counter() - t), n / (cpu_seconds() - c)

def load_rate(path, workers, repeats, batch=64):
    "(best images per wall-clock second, images per CPU second of that pass; CPU only for 0 workers)."
    ds = PosedImageDataset(path)
    dl = DataLoader(ds, batch_size=batch, shuffle=False, num_workers=workers, persistent_workers=workers > 0)
    best = (0., float('nan'))
    for r in range(repeats + 1):
        t, c = time.perf_counter(), cpu_seconds(); n = 0
        for b in dl: n += len(b['img'])
        rate = n / (time.perf_counter() - t), (n / (cpu_seconds() - c) if workers == 0 else float('nan'))
        if r > 0 and rate[0] > best[0]: best = rate   # pass 0 warms the page cache and starts the workers
    return best

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--category', default='chair'); p.add_argument('--res', type=int, default=64)
    p.add_argument('--n-gen', type=int, default=200, help='images per generation run')
    p.add_argument('--n-load', type=int, default=2000, help='images in the loader dataset')
    p.add_argument('--repeats', type=int, default=3, help='timed passes over the loader dataset (best counts)')
    a = p.parse_args()
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix='gen3d_bench_data_'))
    try:
        print(f'machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}')
        for w in (1, 2):
            r, rc = gen_rate(a.category, a.n_gen, a.res, w, tmp / f'gen{w}')
            print(f'generation  {a.category} {a.res}x{a.res}, {w} worker(s): {r:7.1f} images/s wall, {rc:6.1f} per CPU-second'
                  f'   (target >= 20/s on 2 cores)')
        folder = tmp / 'load'
        write_dataset(a.category, a.n_load, a.res, folder, seed=1, n_points=64, workers=2)
        zp = zip_folder(folder, tmp / 'load.zip')
        for name, path in (('folder', folder), ('zip', zp)):
            for w in (0, 2):
                r, rc = load_rate(path, w, a.repeats)
                print(f'loader      {name:6s} {a.res}x{a.res}, {w} DataLoader worker(s): {r:8.0f} images/s wall'
                      + (f', {rc:6.0f} per CPU-second' if w == 0 else '') + '   (target >= 2000/s)')
    finally: shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__': main()
