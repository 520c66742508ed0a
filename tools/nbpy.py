#!/usr/bin/env python
"""Convert between nbdev notebooks and a plain 'percent' text form, for editing notebooks in an editor.

    python tools/nbpy.py to-nb  src.py  nbs/01_cameras.ipynb   # percent text -> notebook (outputs dropped)
    python tools/nbpy.py to-py  nbs/01_cameras.ipynb  src.py   # notebook -> percent text

Percent form: a line `# %%` starts a code cell, `# %% [markdown]` a markdown cell whose lines
are written with a leading `# `. The notebooks in nbs/ stay the source of truth; this is only
an editing aid (no outputs are kept by `to-nb`; re-run the notebook to regenerate figures)."""
import hashlib, json, sys
from pathlib import Path

def _cell(kind, lines):
    while lines and not lines[-1].strip(): lines.pop()
    while lines and not lines[0].strip(): lines.pop(0)
    if kind == 'markdown':
        lines = [l[2:] if l.startswith('# ') else (l[1:] if l.startswith('#') else l) for l in lines]
    src = [l + '\n' for l in lines]
    if src: src[-1] = src[-1][:-1]
    c = {'cell_type': kind, 'metadata': {}, 'source': src}
    if kind == 'code': c.update(execution_count=None, outputs=[])
    return c

def py_to_nb(text):
    cells, kind, buf = [], None, []
    for line in text.splitlines():
        if line.startswith('# %%'):
            if kind is not None: cells.append(_cell(kind, buf))
            kind, buf = ('markdown' if '[markdown]' in line else 'code'), []
        else:
            if kind is None: kind = 'code'
            buf.append(line)
    if kind is not None: cells.append(_cell(kind, buf))
    for i, c in enumerate(cells):  # deterministic cell ids: nbdev writes them into the exported modules
        c['id'] = hashlib.md5(f"{i}:{''.join(c['source'])}".encode()).hexdigest()[:8]
    return {'cells': cells, 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
            'nbformat': 4, 'nbformat_minor': 5}

def nb_to_py(nb):
    out = []
    for c in nb['cells']:
        src = ''.join(c['source']).splitlines()
        if c['cell_type'] == 'markdown':
            out.append('# %% [markdown]'); out += [('# ' + l) if l else '#' for l in src]
        else:
            out.append('# %%'); out += src
        out.append('')
    return '\n'.join(out)

if __name__ == '__main__':
    cmd, src, dst = sys.argv[1:4]
    if cmd == 'to-nb':
        Path(dst).write_text(json.dumps(py_to_nb(Path(src).read_text()), indent=1, ensure_ascii=False) + '\n')
    elif cmd == 'to-py':
        Path(dst).write_text(nb_to_py(json.loads(Path(src).read_text())))
    else:
        sys.exit(f'unknown command {cmd!r}: use to-nb or to-py')
