"""Where the viewpoint costs a voxel reconstruction its 3D IoU (the per-image numbers quoted in `nbs/20a_voxrecon`).

    python tools/voxrecon_views.py runs/ssm_s0 runs/prgan_s0 --data chairs800

For each run, on every held-out image: the 3D IoU aligned with the predicted viewpoint (as `gen3d_nb.voxgan.evaluate`
scores it) and with the true viewpoint (plus the run's global azimuth offset, so the same prediction is scored without
its viewpoint error), overall and by azimuth-error bucket.
"""
import argparse, math
import torch
from gen3d_nb.voxgan.evaluate import load_recon
from gen3d_nb.voxgan.recon import eval_data, align_to_world, _wrap
from gen3d_nb.cameras import unpack_label, ssm_angles
from gen3d_nb.metrics import iou_3d

@torch.no_grad()
def view_report(ckpt, data, n=None)->str:
    G, cfg = load_recon(ckpt); G.eval()
    ds, gt = eval_data(cfg, data)
    n = len(ds) if n is None else min(n, len(ds))
    img = torch.stack([ds[i]['img'] for i in range(n)]); m = torch.stack([ds[i]['mask'] for i in range(n)])
    out = G(img, m)
    c2w, _ = unpack_label(ds.labels[:n]); g = gt[ds.object_ids[:n]]; G3 = g.shape[-1]
    az, el, _ = ssm_angles(c2w.double())
    daz = _wrap(out['view'][:, 0].double() - az); off = torch.atan2(daz.sin().mean(), daz.cos().mean())
    err = torch.rad2deg(_wrap(daz - off)).abs()
    iou = lambda v: iou_3d(align_to_world(out['occ'].float(), v, c2w.double(), G3)[:, 0] >= 0.5, g)
    i_pred = iou(out['view'].double())
    i_true = iou(torch.stack([az + off, el], -1))
    lines = [f'{ckpt}: {n} images, iou3d {float(i_pred.mean()):.3f} with the predicted views, {float(i_true.mean()):.3f} with the true ones',
             '| azimuth error (deg) | images | iou3d (predicted view) | iou3d (true view) |', '|---|---|---|---|']
    for lo, hi in ((0, 10), (10, 30), (30, 90), (90, 181)):
        s = (err >= lo) & (err < hi)
        f = lambda x: f'{float(x[s].mean()):.3f}' if s.any() else '-'
        lines.append(f'| {lo}-{min(hi, 180)} | {int(s.sum())} | {f(i_pred)} | {f(i_true)} |')
    return '\n'.join(lines)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('ckpts', nargs='+', help='run folders or checkpoints'); p.add_argument('--data', required=True)
    p.add_argument('--n', type=int, default=None, help='held-out images (default: all)')
    a = p.parse_args()
    for c in a.ckpts: print(view_report(c, a.data, a.n), end='\n\n')
