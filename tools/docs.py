#!/usr/bin/env python
"""Build the documentation site from the notebooks (MkDocs + Material + mkdocs-jupyter, offline).

    python tools/docs.py                       # build _docs/site (open _docs/site/index.html)
    python tools/docs.py --timings test.log    # also refresh docs/timings.json from a `tools/test_nbs.py` log
    python tools/docs.py --store nbs/21g_pigan_viewer.ipynb   # execute a notebook and keep its outputs in nbs/
    python tools/docs.py --nbdev-check         # nbdev's own docs pre-processing of every notebook (as nbdev_docs)

The pages show the outputs stored in the notebooks (`tools/test_nbs.py` checks that they all execute). A lesson
stored without any output is shown as code and prose, or executed first with `--execute-missing` (as `nbdev_test`
runs it: cells flagged slow/gpu/notest and `eval: false` are skipped; cached in _docs/exec).
Each page gets nbdev's treatment: `hide` cells (except the figures they draw) and the export cell are dropped,
directives are stripped, and every exported function or class gets its signature and documented arguments
(fastcore's docments) after its cell.
The build fails on any error output, a page that does not render, or a MkDocs warning (broken links)."""
import argparse, ast, hashlib, importlib, inspect, json, os, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, OUT = ROOT / 'nbs', ROOT / '_docs'
SRC, SITE, EXEC = OUT / 'src', OUT / 'site', OUT / 'exec'
TIMINGS, SHOTS = ROOT / 'docs' / 'timings.json', ROOT / 'docs' / 'screenshots'
FAILED = []        # notebooks that do not execute or hold error outputs
NO_OUTPUTS = []    # notebooks stored without outputs (their pages show the code and prose only)
WIDGET = 'application/vnd.jupyter.widget-view+json'
SECTIONS = [('Start here', r'index$'), ('Foundations', r'0\d'), ('Meshes', r'1\d'), ('Voxel GANs', r'20'),
            ('pi-GAN', r'21'), ('EG3D', r'22'), ('Textured mesh GAN', r'24'), ('uORF', r'25'), ('Integration tests', r'tests/')]

def notebooks():
    "Every notebook `tools/test_nbs.py` runs, in reading order (index first)."
    nbs = sorted(p for p in NBS.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(NBS).parts))
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.relative_to(NBS).as_posix()))

def page_name(nb:Path)->str: return nb.relative_to(NBS).with_suffix('').as_posix().replace('/', '_')
def src(c)->str: return ''.join(c['source']) if isinstance(c['source'], list) else c['source']

def directives(code:str)->tuple:
    "nbdev directives at the top of a cell (`#| export`, `#| eval: false`) and the code without them."
    d, lines = {}, code.splitlines()
    while lines and (lines[0].startswith('#|') or not lines[0].strip()):
        l = lines.pop(0)
        if l.startswith('#|'):
            k, *v = l[2:].strip().split(maxsplit=1)
            d[k.rstrip(':')] = v[0].strip() if v else ''
    return d, '\n'.join(lines)

def has_outputs(nb:dict)->bool: return any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code')

# ---- execution (the notebooks stored without outputs) -------------------------------------------------------------
def execute(path:Path, dest:Path):
    "Run a notebook as nbdev_test does and write it with its outputs to `dest` (in a fresh process)."
    from execnb.shell import CaptureShell
    from execnb.nbio import read_nb, write_nb
    from fastcore.xtras import working_directory
    nb, flags = read_nb(path), {'slow', 'gpu', 'notest'}
    def skip(cell):
        if cell.cell_type != 'code': return True
        d = directives(cell.source)[0]
        return 'nbdev_export(' in cell.source or d.get('eval', '').lower() == 'false' or bool(flags & d.keys())
    os.environ['IN_TEST'] = '1'
    shell = CaptureShell(path, mpl_format='png')            # 1x PNG: figures at their dpi, small notebooks
    with working_directory(path.parent): shell.run_all(nb, exc_stop=True, preproc=skip)
    for c in nb.cells:
        if c.cell_type == 'code': c.execution_count = None
    write_nb(nb, dest)

def executed(nb_path:Path, run:bool=False)->dict:
    "The notebook's JSON: as stored if it has outputs or `run` is False, else executed (cached by content hash)."
    nb = json.loads(nb_path.read_text())
    if has_outputs(nb) or not any(c['cell_type'] == 'code' for c in nb['cells']): return nb
    if not run: NO_OUTPUTS.append(nb_path.relative_to(ROOT).as_posix()); return nb
    if nb_path.relative_to(NBS).parts[0] == 'tests': return nb     # integration tests: minutes each, nothing to look at
    h = hashlib.sha1(nb_path.read_bytes()).hexdigest()[:12]
    dest = EXEC / f'{page_name(nb_path)}.{h}.ipynb'
    if not dest.exists():
        EXEC.mkdir(parents=True, exist_ok=True)
        t = time.time(); print(f'  executing {nb_path.relative_to(ROOT)} (stored without outputs)', flush=True)
        p = subprocess.run([sys.executable, __file__, '--_exec', str(nb_path), str(dest)], capture_output=True, text=True)
        if p.returncode:                    # reported at the end; the page shows the notebook without outputs
            FAILED.append(f'{nb_path.relative_to(ROOT)} does not execute:\n{(p.stdout + p.stderr)[-2500:]}'); return nb
        print(f'  ... {time.time() - t:.0f}s', flush=True)
    return json.loads(dest.read_text())

def nbdev_check(path:Path):
    "nbdev's own docs pre-processing of one notebook (what `nbdev_docs` runs before quarto); raises on a failing cell."
    import warnings
    from execnb.nbio import read_nb
    from fastcore.xtras import working_directory
    from nbdev.processors import FilterDefaults
    os.environ['IN_TEST'] = '1'
    with working_directory(path.parent), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); FilterDefaults()(read_nb(path))
    mixed = [x for x in w if 'imports and other code' in str(x.message)]
    if mixed: print(f'note: {len(mixed)} cell(s) of {path.name} mix imports with other code (nbdev runs them out of context)')

def run_nbdev_checks(paths:list, workers:int=1)->list:
    "Run `nbdev_check` on each notebook in its own process; returns the failures."
    from concurrent.futures import ThreadPoolExecutor
    def one(nb):
        t = time.time()
        p = subprocess.run([sys.executable, __file__, '--_nbdev', str(nb)], capture_output=True, text=True)
        print(f'{"ok  " if p.returncode == 0 else "FAIL"} {time.time() - t:5.1f}s nbdev pre-processing {nb.relative_to(ROOT)}', flush=True)
        if p.stdout.strip(): print('     ' + p.stdout.strip().replace('\n', '\n     '))
        return None if p.returncode == 0 else f'{nb.relative_to(ROOT)}: nbdev pre-processing fails:\n{p.stderr[-1500:]}'
    with ThreadPoolExecutor(workers) as ex: return [r for r in ex.map(one, paths) if r]

# ---- API reference (signatures and docments) ---------------------------------------------------------------------
def imports_only(code:str)->bool:
    try: return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.parse(code).body)
    except SyntaxError: return False

def exported_names(code:str)->list:
    "Public functions and classes defined at the top level of an exported cell."
    try: tree = ast.parse(code)
    except SyntaxError: return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith('_')]

def _fmt(a)->str:
    if a is inspect.Parameter.empty or a is None: return ''
    s = a if isinstance(a, str) else getattr(a, '__name__', repr(a))
    return s.replace('|', '\\|')

def _cell_text(s:str)->str: return s.replace('|', '\\|').replace('\n', ' ')

def api_markdown(obj, name:str, level:int=4)->str:
    "nbdev show_doc in markdown: heading, signature, docstring, the table of documented arguments."
    from fastcore.docments import docments
    f = obj.__init__ if inspect.isclass(obj) else obj
    try: sig = str(inspect.signature(f if not inspect.isclass(obj) else obj))
    except (TypeError, ValueError): sig = '(...)'
    kind = 'class ' if inspect.isclass(obj) else ''
    doc = inspect.getdoc(obj) or ''
    out = [f'{"#" * level} {name}', '', f'```python\n{kind}{name}{sig}\n```', '']
    if doc and not (inspect.isclass(obj) and doc == inspect.getdoc(type)): out += [doc.split('\n\n')[0], '']
    try: d = docments(f, full=True)
    except Exception: d = {}
    rows = [(k, v) for k, v in d.items() if k not in ('self', 'return', 'cls')]
    if rows:
        out += ['| | type | default | details |', '| --- | --- | --- | --- |']
        for k, v in rows:
            dflt = '' if v.get('default', inspect.Parameter.empty) is inspect.Parameter.empty else f'`{v["default"]!r}`'
            out.append(f'| **{k}** | {_fmt(v.get("anno"))} | {_cell_text(dflt)} | {_cell_text(v.get("docment") or "")} |')
        r = d.get('return') or {}
        if r.get('docment') or r.get('anno') not in (None, inspect.Parameter.empty):
            out.append(f'| **returns** | {_fmt(r.get("anno"))} | | {_cell_text(r.get("docment") or "")} |')
        out.append('')
    return '\n'.join(out)

# ---- one page per notebook ----------------------------------------------------------------------------------------
def process(nb_path:Path, nb:dict, api:dict)->dict:
    "nbdev's docs processing: drop hidden cells, strip directives, add the API reference after exported cells."
    cells, errors, module = [], [], None
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code':
            cells.append({k: v for k, v in c.items() if k not in ('outputs', 'execution_count')}); continue
        d, code = directives(src(c))
        if 'default_exp' in d: module = f'gen3d_nb.{d["default_exp"]}'; continue
        for o in c.get('outputs', []):
            if o['output_type'] == 'error' or (o['output_type'] == 'stream' and 'Traceback (most recent call last)' in src({'source': o['text']})):
                errors.append(f'{nb_path.relative_to(ROOT)} cell {i} (id {c.get("id")}): {o.get("ename", "stderr")}: {o.get("evalue", "")}')
        if 'exporti' in d or 'nbdev_export(' in code or 'nbdev.nbdev_export' in code: continue
        figure_only = 'hide' in d and any(k.startswith('image/') for o in c.get('outputs', []) for k in o.get('data', {}))
        if 'hide' in d and not figure_only: continue
        c = dict(c, source=code, metadata=dict(c.get('metadata', {})))
        if figure_only:                                 # a hidden cell that draws a figure: the figure without its code
            c['outputs'] = [o for o in c['outputs'] if any(k.startswith('image/') for k in o.get('data', {}))]
            d['echo'] = 'false'
        outs = []
        for o in c.get('outputs', []):
            if 'data' in o:
                if WIDGET in o['data']: continue            # a live widget: nothing to show on a static page
                o = dict(o, data={k: v for k, v in o['data'].items() if not k.startswith('application/vnd.jupyter')})
            outs.append(o)
        c['outputs'] = [] if d.get('output', '').lower() == 'false' else outs
        if d.get('echo', '').lower() == 'false': c['metadata']['tags'] = ['remove_input']
        if not code.strip() and not c['outputs']: continue
        if ('export' in d or 'exports' in d) and imports_only(code): continue       # the module's imports: not a lesson
        cells.append(c)
        if ('export' in d or 'exports' in d) and module:
            mod = importlib.import_module(module)
            objs = [(n, getattr(mod, n)) for n in exported_names(code)
                    if inspect.isfunction(getattr(mod, n, None)) or inspect.isclass(getattr(mod, n, None))]   # not @patch methods
            docs = [api_markdown(o, n) for n, o in objs]
            api.setdefault((module, nb_path), []).extend(objs)
            if docs: cells.append({'cell_type': 'markdown', 'id': f'api{len(cells):05d}', 'metadata': {}, 'source': '\n\n'.join(docs)})
    FAILED.extend(f'error output: {e}' for e in errors)
    return dict(nb, cells=cells)

def subtitle(nb:dict)->tuple:
    "(title, one-line subtitle) from the notebook's `# Title` and `> subtitle` markdown."
    text = '\n\n'.join(src(c) for c in nb['cells'] if c['cell_type'] == 'markdown')
    t = re.search(r'^# (.+)$', text, re.M); s = re.search(r'^>.*(?:\n.+)*', text, re.M)    # the quote up to a blank line
    sub = ' '.join(l.lstrip('>').strip() for l in s.group(0).splitlines()) if s else ''
    return (t.group(1).strip() if t else ''), sub

def section(nb:Path)->str:
    rel = nb.relative_to(NBS).with_suffix('').as_posix()
    return next(name for name, pat in SECTIONS + [('Other', '')] if re.match(pat, rel))

def fmt_time(s): return f'{s:.0f} s' if s < 90 else f'{s / 60:.1f} min'

def learning_path(pages:list, timings:dict)->str:
    lines = ['# Learning path', '',
             'Read the notebooks in this order: each builds on the ones above it. "Runs in" is the time the notebook',
             'takes top to bottom on a laptop-class CPU (measured with `python tools/test_nbs.py`, which skips the cells',
             'marked slow or gpu; two notebooks at a time on two cores). Open them with `jupyter lab` from the repository',
             'root and run them from `nbs/`, where the fixtures and images live.', '']
    total, cur = 0., None
    for nb, name, (title, sub) in pages:
        sec = section(nb)
        if sec != cur:
            lines += ['', f'## {sec}', '', '| # | notebook | what it teaches | runs in |', '| --- | --- | --- | --- |']; cur = sec
        t = timings.get(nb.relative_to(ROOT).as_posix()); total += t or 0
        lines.append(f'| {len([l for l in lines if l.startswith("| ") and "---" not in l and "| # |" not in l]) + 1} '
                     f'| [{title or name}]({name}.ipynb) `{name}` | {_cell_text(sub)} | {fmt_time(t) if t else ""} |')
    lines += ['', f'All notebooks together: about {total / 60:.0f} minutes of CPU time.', '']
    return '\n'.join(lines)

def api_page(api:dict)->str:
    lines = ['# API reference', '', 'Every exported function and class, by module, with its signature and documented arguments;',
             'the notebook that defines it explains and tests it.', '']
    for (module, nb), objs in api.items():
        lines += [f'## `{module}`', '', f'Source notebook: [{page_name(nb)}]({page_name(nb)}.ipynb)', '']
        lines += [api_markdown(o, n, level=3) for n, o in objs]
    return '\n'.join(lines)

def screenshots_page()->str:
    lines = ['# Screenshots', '', 'Three pages of this site as a browser shows them (headless Chromium, taken by `tools/browser_test.py`).', '']
    for f, what in [('landing.png', 'The landing page'), ('03_render.png', 'A lesson page with equations and figures: `03_render`'),
                    ('viewer.png', 'The viewer page: `21g_pigan_viewer`'), ('jupyterlab_viewer.png', 'The viewer running in JupyterLab')]:
        if (SHOTS / f).exists(): lines += [f'## {what}', '', f'![{what}](screenshots/{f})', '']
    return '\n'.join(lines)

def read_timings(log:Path)->dict:
    "Seconds per notebook from a `tools/test_nbs.py` log (`ok     14.5s  nbs/00_core.ipynb`)."
    return {m.group(2): float(m.group(1)) for m in re.finditer(r'^ok\s+([\d.]+)s\s+(\S+\.ipynb)$', log.read_text(), re.M)}

def check_site(names:list):
    "Every page exists and has content (error outputs are caught in the notebooks, before MkDocs)."
    bad = []
    for n in names + ['learning_path', 'api', 'screenshots']:
        f = SITE / f'{n}.html'
        if not f.exists(): bad.append(f'{n}.html missing'); continue
        html = f.read_text(errors='replace')
        if len(html) < 5000 or '<article' not in html: bad.append(f'{n}.html has no content')
    if bad: raise SystemExit('FAIL: broken pages:\n  ' + '\n  '.join(bad))

def build(a):
    t0 = time.time()
    sys.path.insert(0, str(ROOT))
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    if a.timings:
        timings.update(read_timings(Path(a.timings))); TIMINGS.parent.mkdir(exist_ok=True)
        TIMINGS.write_text(json.dumps(dict(sorted(timings.items())), indent=1) + '\n')
    if SRC.exists(): shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    pages, api = [], {}
    for nb_path in notebooks():
        nb = executed(nb_path, a.execute_missing)
        name = page_name(nb_path)
        (SRC / f'{name}.ipynb').write_text(json.dumps(process(nb_path, nb, api), indent=1))
        pages.append((nb_path, name, subtitle(nb)))
    shutil.copytree(NBS / 'images', SRC / 'images')
    if SHOTS.exists(): shutil.copytree(SHOTS, SRC / 'screenshots')
    import jupyter_server_mathjax                                   # MathJax 2.7, served with the site (no CDN)
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / 'static', SRC / 'assets' / 'mathjax')
    (SRC / 'assets' / 'mathjax' / 'config' / 'local').mkdir(parents=True, exist_ok=True)   # the fonts this copy ships
    (SRC / 'assets' / 'mathjax' / 'config' / 'local' / 'gen3d.js').write_text(
        'MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], webFont: "STIX-Web", imageFont: null, preferredFont: null}});\n'
        'MathJax.Ajax.loadComplete("[MathJax]/config/local/gen3d.js");\n')
    (SRC / 'learning_path.md').write_text(learning_path(pages, timings))
    (SRC / 'api.md').write_text(api_page(api))
    (SRC / 'screenshots.md').write_text(screenshots_page())
    nav = [{'Home': 'index.ipynb'}, {'Learning path': 'learning_path.md'}]
    for sec, _ in SECTIONS[1:] + [('Other', '')]:
        items = [{(t or n): f'{n}.ipynb'} for p, n, (t, s) in pages if section(p) == sec]
        if items: nav.append({sec: items})
    nav += [{'API reference': 'api.md'}, {'Screenshots': 'screenshots.md'}]
    (OUT / 'mkdocs.yml').write_text(json.dumps({'INHERIT': '../mkdocs.yml', 'docs_dir': 'src', 'site_dir': 'site', 'nav': nav}, indent=1))
    t1 = time.time()
    p = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '--clean', '-f', str(OUT / 'mkdocs.yml')],
                       capture_output=True, text=True, cwd=ROOT)
    if p.returncode: raise SystemExit(f'FAIL: mkdocs build:\n{(p.stdout + p.stderr)[-6000:]}')
    check_site([n for _, n, _ in pages])
    if NO_OUTPUTS: print(f'note: {len(NO_OUTPUTS)} notebook(s) are stored without outputs, so their pages show no figures '
                         f'(store them with --store NB, or build with --execute-missing): {" ".join(NO_OUTPUTS)}')
    if FAILED: raise SystemExit(f'FAIL: the site is built, but {len(FAILED)} notebook(s) failed:\n' + '\n'.join(FAILED))
    print(f'docs: {len(pages)} notebook pages + learning path, API reference, screenshots in {SITE.relative_to(ROOT)}/ '
          f'(prepare {t1 - t0:.0f}s, mkdocs {time.time() - t1:.0f}s, total {time.time() - t0:.0f}s)')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--timings', help='a tools/test_nbs.py log: refresh docs/timings.json from it')
    ap.add_argument('--store', nargs='+', metavar='NB', help='execute these notebooks and keep their outputs in place')
    ap.add_argument('--execute-missing', action='store_true', help='execute the notebooks stored without outputs (cached in _docs/exec)')
    ap.add_argument('--nbdev-check', nargs='*', metavar='NB', help="run nbdev's docs pre-processing on these notebooks (none: all) and stop")
    ap.add_argument('--_exec', nargs=2, help=argparse.SUPPRESS)
    ap.add_argument('--_nbdev', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._exec: return execute(Path(a._exec[0]).resolve(), Path(a._exec[1]))
    if a._nbdev: return nbdev_check(Path(a._nbdev).resolve())
    if a.nbdev_check is not None:
        bad = run_nbdev_checks([Path(p).resolve() for p in a.nbdev_check] or notebooks())
        if bad: raise SystemExit('FAIL:\n' + '\n'.join(bad))
        return
    if a.store:
        for nb in a.store:
            t = time.time(); execute(Path(nb).resolve(), Path(nb)); print(f'stored the outputs of {nb} ({time.time() - t:.0f}s)')
        return
    build(a)

if __name__ == '__main__': main()
