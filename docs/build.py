#!/usr/bin/env python3
"""Build solarnb's documentation website offline, from the notebooks in `nbs/`.

    python docs/build.py            # from the repository root; writes docs/_build/html
    python docs/build.py --help     # options (parallel jobs, cache, slow cells, ...)

Quarto (what `nbdev_docs` uses) cannot be installed on these machines, so this script does the same job
with Sphinx:

1. execute every notebook with a Jupyter kernel (nbclient), cwd = `nbs/` so `../example_data` resolves;
   a notebook that fails is reported and included without outputs, and the build goes on;
2. process the executed notebooks with nbdev's own processors (what `proc_nbs` runs): `show_doc` cells are
   added after exported definitions, `#| hide` and `#| export` cells removed, front matter extracted;
3. turn the processed notebooks into plain notebooks that myst-nb renders: front matter becomes
   `# Title` + `> description`, `#| echo: false` becomes the `remove-input` tag, show_doc output becomes
   a markdown cell (so each documented name gets a heading and an anchor), nbdev's links to the
   published site become links between the local pages;
4. build HTML with Sphinx + myst-nb + pydata-sphinx-theme, with a local MathJax (fetched once with
   `npm pack mathjax@3` into `docs/_mathjax/`).

Intermediate files live in `docs/_nbs/` (git-ignored); executed notebooks are cached there and reused while
neither the notebook nor any `solarnb/*.py` changed (`--force` re-runs them).
"""
from __future__ import annotations
import argparse, concurrent.futures as cf, hashlib, json, multiprocessing as mp, os, re, shutil, subprocess
import sys, tarfile, tempfile, time, traceback
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NBS = ROOT/'nbs'
WORK = DOCS/'_nbs'
MATHJAX = DOCS/'_mathjax'
EXEC_VERSION = '4'  # bump to invalidate the execution cache when the execution step changes

def log(*a): print(*a, flush=True)

# ----------------------------------------------------------------------------------------------------------
# notebooks and cell directives

def notebooks(names=None) -> list[Path]:
    "The notebooks of the site: index first, then the others in file-name order."
    nbs = [p for p in sorted(NBS.glob('*.ipynb')) if not p.name.startswith(('_', '.'))]
    if names: nbs = [p for p in nbs if p.stem in names or p.name in names]
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.name))

_re_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*(:?)\s*(.*?)\s*$')

def directives(src: str) -> tuple[dict, str]:
    "The `#| name: value` directives at the top of a code cell's source, and the source without them."
    d, lines = {}, src.splitlines()
    i = 0
    for i, line in enumerate(lines):
        m = _re_dir.match(line)
        if not m:
            if line.strip() == '': continue
            break
        d[m.group(1).lower()] = m.group(3)
    else: i = len(lines)
    rest = [l for l in lines[i:]]
    # directives may be followed by blank lines before code; they are all at the top
    return d, '\n'.join(rest).strip('\n')

def _src(cell) -> str:
    s = cell.get('source', '')
    return ''.join(s) if isinstance(s, list) else (s or '')

def tst_flags() -> set:
    try:
        import configparser
        c = configparser.ConfigParser(); c.read(ROOT/'settings.ini')
        return set(c['DEFAULT'].get('tst_flags', '').split())
    except Exception: return set()

def skip_reason(src: str, skip_flags: set) -> str | None:
    "Why a code cell must not run for the docs, or None."
    if re.search(r'nbdev(\.\w+)*\.nbdev_export\s*\(|^\s*nbdev_export\s*\(', src, re.M):
        return 'nbdev_export'  # would rewrite solarnb/*.py from the notebooks other people are editing
    d, _ = directives(src)
    if d.get('eval', '').lower() == 'false': return 'eval: false'
    flags = set(d) & skip_flags
    if flags: return f'flag {sorted(flags)[0]}'
    return None

# ----------------------------------------------------------------------------------------------------------
# 1. execution

# Run first in every kernel, then removed. Notebooks call matplotlib.use('Agg') so the test suite never opens
# a window; for the docs the inline backend must stay so figures become outputs.
SETUP = r"""
import os, matplotlib
_solarnb_docs_mpl_use = matplotlib.use
def _solarnb_docs_use(backend, *args, **kwargs):
    if str(backend).lower() == 'agg': return None
    return _solarnb_docs_mpl_use(backend, *args, **kwargs)
matplotlib.use = _solarnb_docs_use
get_ipython().run_line_magic('config', "InlineBackend.figure_formats = ['png']")
get_ipython().run_line_magic('config', "InlineBackend.rc = {'figure.dpi': 110}")
del os
"""

def code_key() -> str:
    "Hash of everything outside a notebook that its outputs depend on: the library and this step's version."
    h = hashlib.sha256(EXEC_VERSION.encode())
    for p in sorted((ROOT/'solarnb').rglob('*.py')):
        h.update(str(p.relative_to(ROOT)).encode()); h.update(p.read_bytes())
    return h.hexdigest()

def nb_key(path: Path, lib_key: str, skip_flags: set) -> str:
    nb = json.loads(path.read_text())
    srcs = [(c['cell_type'], _src(c)) for c in nb['cells']]
    return hashlib.sha256(json.dumps([srcs, lib_key, sorted(skip_flags)]).encode()).hexdigest()

def execute_one(src: str, dst: str, timeout: int, skip_flags: list, key: str) -> dict:
    "Execute notebook `src` (cwd = nbs/) and write it with its outputs to `dst`; report what happened."
    import nbformat
    from nbclient import NotebookClient
    t0 = time.time()
    nb = nbformat.read(src, as_version=4)
    skipped = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        c.outputs, c.execution_count = [], None
        r = skip_reason(c.source, set(skip_flags))
        if r: skipped[i] = c.source; c.source = ''   # nbclient does not run empty cells
    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP))
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION='1', TQDM_DISABLE='1', MPLBACKEND='module://matplotlib_inline.backend_inline')
    class Client(NotebookClient):
        # No emulation of ipywidgets' Output widget: what code displays inside `with out:` stays a plain cell
        # output (a static page has no live widget to show it in, so e.g. an explorer's figure would be lost);
        # the emulation also once stalled until the cell timeout on 02_limb's explorer.
        def on_comm_open_jupyter_widget(self, msg): return None
    client = Client(nb, timeout=timeout, kernel_name='python3', allow_errors=False,
                    resources={'metadata': {'path': str(NBS)}}, record_timing=False)
    info = dict(name=Path(src).name, ok=True, error=None, skipped=len(skipped))
    try: client.execute(env=env)     # kwargs go to the kernel manager's start_kernel
    except Exception as e:
        info['ok'] = False
        msg = str(e)
        info['error'] = _short_error(msg) or f'{type(e).__name__}: {msg[:500]}'
    nb.cells.pop(0)
    for i, s in skipped.items(): nb.cells[i].source = s
    if not info['ok']:
        for c in nb.cells:
            if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    info['seconds'] = round(time.time() - t0, 1)
    nb.metadata['solarnb_docs'] = dict(key=key, **info)
    nbformat.write(nb, dst)
    return info

def _short_error(msg: str) -> str:
    "The failing cell's first lines and the exception line, from nbclient's CellExecutionError text."
    msg = re.sub(r'\x1b\[[0-9;]*m', '', msg)
    lines = [l for l in msg.splitlines() if l.strip()]
    if not lines: return ''
    cell = []
    if lines[0].startswith('An error occurred'):
        body = lines[1:]
        for l in body:
            if set(l.strip()) <= {'-'}: 
                if cell: break
                continue
            cell.append(l)
        cell = cell[:3]
    exc = [l for l in lines if re.match(r'^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b', l)]
    return ('cell: ' + ' | '.join(cell) + '\n    ' if cell else '') + (exc[-1] if exc else lines[-1])[:400]

# ----------------------------------------------------------------------------------------------------------
# 2. nbdev processing

def process_one(src: str, dst: str) -> dict:
    "Run nbdev's doc processors (what `proc_nbs` runs) on executed notebook `src`; write `dst`."
    os.chdir(NBS)
    os.environ['IN_TEST'] = '1'
    import warnings
    warnings.filterwarnings('ignore')
    import matplotlib; matplotlib.use('Agg')
    from execnb.nbio import read_nb, write_nb
    from nbdev import processors as P
    problems = []

    class exec_show_docs(P.exec_show_docs):
        "nbdev's, but a cell that fails here (it runs out of its context) is noted, not fatal, and outputs are kept."
        def __call__(self, cell):
            if not self.nb.has_docs_ or not hasattr(self, 'k'): return
            if P._do_eval(cell):
                # run it for the definitions only: the outputs stay the kernel's, except show_doc's own
                keep = None if P._is_showdoc(cell) else (cell.get('outputs'), cell.get('execution_count'))
                self.k.cell(cell)
                if keep is not None: cell['outputs'], cell['execution_count'] = keep
                if self.k.exc:
                    problems.append(f'cell {cell.idx_}: {type(self.k.exc).__name__}: {self.k.exc}'[:300])
                    self.k.exc = None

    class add_show_docs(P.add_show_docs):
        "nbdev's, but the show_doc cells of a cell that defines several names come in source order."
        def begin(self):
            nb = self.nb
            exports = P.L(cell for cell in nb.cells if P._want_doc(cell))
            trees = P.L(nb.cells).map(P.NbCell.parsed_).concat()
            shown_docs = {P._get_nm(t) for t in P._show_docs(trees)}
            for cell in reversed(exports):
                for nm in reversed(P._def_names(cell, shown_docs)):
                    new_cell = P.mk_cell(f'show_doc({nm})')
                    new_cell.has_sd = True
                    nb.cells.insert(cell.idx_+1, new_cell)
            nb.has_docs_ = shown_docs or exports

    swap = {P.exec_show_docs: exec_show_docs, P.add_show_docs: add_show_docs}
    class Procs(P.FilterDefaults):
        def base_procs(self): return [swap.get(p, p) for p in super().base_procs()]

    nb = read_nb(src)
    nb.path_ = str(NBS/Path(src).name)   # nbdev names the page after the notebook's path
    Procs()(nb)
    write_nb(nb, dst)
    return dict(name=Path(src).name, problems=problems)

# ----------------------------------------------------------------------------------------------------------
# 3. plain notebooks for myst-nb

def _page_name(nb: dict, path: Path) -> str:
    "The page name nbdev/Quarto gives the notebook: '00_core.ipynb' -> 'core'."
    fm = _front_matter(nb)
    of = fm.get('output-file')
    if of: return Path(of).stem
    return re.sub(r'^\d+[a-z]?_', '', path.stem)

def _front_matter(nb: dict) -> dict:
    import yaml
    for c in nb['cells']:
        if c['cell_type'] == 'raw':
            s = _src(c).strip()
            if s.startswith('---'):
                try: return yaml.safe_load(s.strip('-').strip()) or {}
                except Exception: return {}
    return {}

def _anchor(name: str) -> str:
    "myst's heading slug (`myst_heading_anchors`) for an nbdev anchor: lower case, spaces -> '-', no punctuation."
    return re.sub(r'[^\w\- ]', '', name.strip().lower()).replace(' ', '-')

def _local_links(text: str, site_url: str) -> str:
    "nbdev links names to the published site; point them at the local pages (resolved by Sphinx)."
    if not site_url: return text
    pat = re.compile(r'\]\(' + re.escape(site_url.rstrip('/')) + r'/([\w.-]+)\.html(#[\w.\-]+)?\)')
    return pat.sub(lambda m: f']({m.group(1)}.ipynb' + (f'#{_anchor(m.group(2)[1:])}' if m.group(2) else '') + ')', text)

def _show_doc_md(cell) -> str | None:
    "The markdown that a show_doc cell displayed, without the leading rule."
    for o in cell.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md is None: continue
        md = ''.join(md) if isinstance(md, list) else md
        md = re.sub(r'^\s*---\s*\n', '', md)
        # nbdev puts the source link, floated right by a style attribute, before the heading: move it after
        # the heading and give it a class (docs/_static/solarnb.css floats it)
        m = re.match(r'\s*(\[source\]\([^)]*\))(\{[^}]*\})?\s*\n+(#+ [^\n]*\n)', md)
        if m: md = m.group(3) + '\n' + m.group(1) + '{.sn-source}\n' + md[m.end():]
        return md.strip('\n')
    return None

_TAGS = {'echo': ('false', 'remove-input'), 'output': ('false', 'remove-output'),
         'include': ('false', 'remove-cell')}

def to_plain(src: Path, dst: Path, site_url: str, failed: str | None) -> dict:
    "Turn an nbdev-processed notebook into one myst-nb renders as nbdev's Quarto site would look."
    nb = json.loads(src.read_text())
    fm = _front_matter(nb)
    cells = []
    title = fm.get('title')
    if title:
        md = f'# {title}'
        if fm.get('description'): md += f'\n\n> {fm["description"]}'
        cells.append(dict(cell_type='markdown', metadata={}, source=md))
    if failed:
        cells.append(dict(cell_type='markdown', metadata={}, source=(
            ':::{warning}\nThis notebook failed to run when the documentation was built, so this page shows '
            f'its code without outputs.\n\n```text\n{failed}\n```\n:::')))
    for c in nb['cells']:
        s = _src(c)
        if c['cell_type'] == 'raw':
            if s.strip().startswith('---'): continue
            if 'source' not in c or not s.strip(): continue
            cells.append(dict(c, source=s)); continue
        if 'source' not in c or not s.strip(): continue
        if '<!-- WARNING: THIS FILE WAS AUTOGENERATED!' in s: continue
        if c['cell_type'] == 'markdown':
            cells.append(dict(cell_type='markdown', metadata={}, source=_local_links(s, site_url)))
            continue
        d, code = directives(s)
        if re.match(r'show_doc\(', code.strip()):
            md = _show_doc_md(c)
            if md: cells.append(dict(cell_type='markdown', metadata={}, source=_local_links(md, site_url)))
            continue
        if not code.strip(): continue
        tags = list(c.get('metadata', {}).get('tags', []))
        for k, (v, tag) in _TAGS.items():
            if d.get(k, '').lower() == v and tag not in tags: tags.append(tag)
        meta = {'tags': tags} if tags else {}
        outs = []
        for o in c.get('outputs', []):
            if o.get('output_type') in ('display_data', 'execute_result'):
                data = o.get('data', {})
                if 'text/markdown' in data:
                    md = data['text/markdown']; md = ''.join(md) if isinstance(md, list) else md
                    data['text/markdown'] = _local_links(md, site_url)
            outs.append(o)
        cells.append(dict(cell_type='code', metadata=meta, source=code, outputs=outs,
                          execution_count=c.get('execution_count')))
    out = dict(nbformat=4, nbformat_minor=5, cells=cells,
               metadata={k: v for k, v in nb.get('metadata', {}).items() if k in ('kernelspec', 'language_info', 'widgets')})
    out['metadata'].setdefault('kernelspec', {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'})
    for i, c in enumerate(out['cells']): c['id'] = f'c{i:03d}'
    dst.write_text(json.dumps(out, indent=1))
    return fm

# ----------------------------------------------------------------------------------------------------------
# 4. MathJax and Sphinx

MATHJAX_KEEP = ('tex-mml-chtml.js', 'input', 'output/chtml', 'ui', 'a11y', 'sre', 'adaptors')

def ensure_mathjax() -> Path | None:
    "A local MathJax 3 (`docs/_mathjax/mathjax/tex-mml-chtml.js`), fetched from npm once."
    dst = MATHJAX/'mathjax'
    if (dst/'tex-mml-chtml.js').exists(): return dst
    if not shutil.which('npm'):
        log('!! npm not found: pages will load MathJax from its CDN'); return None
    with tempfile.TemporaryDirectory() as d:
        log('fetching MathJax 3 with npm pack ...')
        r = subprocess.run(['npm', 'pack', 'mathjax@3', '--silent'], cwd=d, capture_output=True, text=True)
        tgz = list(Path(d).glob('mathjax-*.tgz'))
        if r.returncode or not tgz:
            log('!! npm pack mathjax@3 failed; pages will load MathJax from its CDN\n' + r.stderr[-500:]); return None
        with tarfile.open(tgz[0]) as t: t.extractall(d, filter='data')
        es5 = Path(d)/'package'/'es5'
        tmp = MATHJAX/'mathjax.tmp'
        shutil.rmtree(tmp, ignore_errors=True)
        for k in MATHJAX_KEEP:
            s = es5/k
            if s.is_dir(): shutil.copytree(s, tmp/k)
            elif s.exists(): (tmp/k).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(s, tmp/k)
        shutil.copy2(Path(d)/'package'/'LICENSE', tmp/'LICENSE')
        shutil.rmtree(dst, ignore_errors=True); tmp.rename(dst)
    return dst

def write_index_toc(site: Path, pages: list[str]):
    "Append the (hidden) toctree that orders the sidebar to the index page."
    p = site/'index.ipynb'
    nb = json.loads(p.read_text())
    toc = '```{toctree}\n:hidden:\n:maxdepth: 2\n:titlesonly:\n\n' + '\n'.join(pages) + '\n```'
    nb['cells'].append(dict(cell_type='markdown', metadata={}, source=toc, id='toctree'))
    p.write_text(json.dumps(nb, indent=1))

def site_url() -> str:
    import configparser
    c = configparser.ConfigParser(); c.read(ROOT/'settings.ini')
    d = c['DEFAULT']
    return d.get('doc_host', '').rstrip('/') + d.get('doc_baseurl', '').rstrip('/')

# ----------------------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='*', help='only (re)execute these notebooks (stems or file names); the site still has all')
    ap.add_argument('-j', '--jobs', type=int, default=max(1, min(4, (os.cpu_count() or 2)//2)),
                    help='notebooks executed in parallel (default: half the CPUs, at most 4)')
    ap.add_argument('--force', action='store_true', help='re-execute notebooks even when the cache is current')
    ap.add_argument('--no-exec', action='store_true', help='do not execute: use cached outputs, or none')
    ap.add_argument('--slow', action='store_true', help="also run cells flagged with settings.ini's tst_flags (e.g. slow)")
    ap.add_argument('--timeout', type=int, default=900, help='seconds allowed per cell (default 900)')
    ap.add_argument('-v', '--verbose', action='store_true', help='list cells that failed while preparing show_doc')
    ap.add_argument('--clean', action='store_true', help='remove docs/_build and docs/_nbs first')
    a = ap.parse_args(argv)
    t_start = time.time()
    if a.clean:
        shutil.rmtree(DOCS/'_build', ignore_errors=True); shutil.rmtree(WORK, ignore_errors=True)
    ex, proc, site = WORK/'exec', WORK/'proc', WORK/'site'
    for d in (ex, proc): d.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(site, ignore_errors=True); site.mkdir(parents=True)
    nbs = notebooks()
    if not nbs: sys.exit(f'no notebooks in {NBS}')
    skip_flags = set() if a.slow else tst_flags()
    ctx = mp.get_context('spawn')

    # 1. execute
    t0 = time.time()
    lib = code_key()
    todo, status = [], {}
    for p in nbs:
        key, dst = nb_key(p, lib, skip_flags), ex/p.name
        cached = None
        if dst.exists():
            try: cached = json.loads(dst.read_text())['metadata'].get('solarnb_docs')
            except Exception: cached = None
        forced = a.force and (not a.notebooks or p.stem in a.notebooks or p.name in a.notebooks)
        if a.no_exec or (cached and cached.get('key') == key and not forced):
            if cached and cached.get('key') != key: log(f'   {p.name}: stale cached outputs (--no-exec)')
            if not dst.exists():   # never executed: use the notebook as it is
                shutil.copy2(p, dst); cached = dict(ok=True, error=None, seconds=0, cached='none')
            status[p.name] = dict(cached, cached=True)
        else: todo.append((p, key))
    if todo:
        log(f'1/4 executing {len(todo)} notebook(s) with {min(a.jobs, len(todo))} job(s) '
            f'(cached: {len(nbs)-len(todo)}; skipping cells flagged {sorted(skip_flags) or "-"}) ...')
        with cf.ProcessPoolExecutor(max_workers=max(1, min(a.jobs, len(todo))), mp_context=ctx, max_tasks_per_child=1) as pool:
            futs = {pool.submit(execute_one, str(p), str(ex/p.name), a.timeout, sorted(skip_flags), key): p
                    for p, key in todo}
            for f in cf.as_completed(futs):
                p = futs[f]
                try: info = f.result()
                except Exception as e: info = dict(ok=False, error=f'{type(e).__name__}: {e}', seconds=0)
                status[p.name] = info
                if info['ok']: log(f'   ok      {p.name}  ({info["seconds"]} s)')
                else: log(f'   FAILED  {p.name}  ({info["seconds"]} s): included without outputs\n    {info["error"]}')
    else: log('1/4 executing: all notebooks cached')
    t_exec = time.time() - t0

    # 2. nbdev processing
    t0 = time.time()
    me = Path(__file__).read_bytes()
    keys = {p: hashlib.sha256((ex/p.name).read_bytes() + me + lib.encode()).hexdigest() for p in nbs}
    todo = [p for p in nbs if a.force or not (proc/p.name).exists() or not (proc/f'{p.name}.key').exists()
            or (proc/f'{p.name}.key').read_text() != keys[p]]
    if todo: log(f'2/4 processing {len(todo)} notebook(s) with nbdev (show_doc, hide/export removal, front matter) ...')
    else: log('2/4 processing: all notebooks cached')
    n_notes = 0
    # a fresh process per notebook: IPython (show_doc's shell) replaces the worker's __main__
    with cf.ProcessPoolExecutor(max_workers=max(1, min(a.jobs, len(nbs))), mp_context=ctx, max_tasks_per_child=1) as pool:
        futs = {pool.submit(process_one, str(ex/p.name), str(proc/p.name)): p for p in todo}
        for f in cf.as_completed(futs):
            p = futs[f]
            (proc/f'{p.name}.key').unlink(missing_ok=True)
            try:
                r = f.result()
                if r['problems'] and a.verbose:
                    for q in r['problems']: log(f'   note    {p.name}: show_doc setup {q}')
                elif r['problems']: n_notes += len(r['problems'])
                (proc/f'{p.name}.key').write_text(keys[p])
            except Exception as e:
                log(f'!! {p.name}: nbdev processing failed ({type(e).__name__}: {str(e)[:300]}); using it unprocessed')
                shutil.copy2(ex/p.name, proc/p.name)

    if n_notes: log(f'   ({n_notes} cell(s) with imports and other code failed outside their notebook while nbdev '
                    'prepared show_doc: harmless, the outputs are the kernel\'s; -v lists them)')

    # 3. plain notebooks
    log('3/4 converting for myst-nb ...')
    url, pages = site_url(), []
    for p in nbs:
        nb = json.loads((proc/p.name).read_text())
        name = 'index' if p.stem == 'index' else _page_name(nb, p)
        st = status.get(p.name, {})
        to_plain(proc/p.name, site/f'{name}.ipynb', url, None if st.get('ok', True) else st.get('error'))
        if name != 'index': pages.append(name)
    if not (site/'index.ipynb').exists():
        (site/'index.ipynb').write_text(json.dumps(dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
            dict(cell_type='markdown', metadata={}, source='# solarnb', id='title')])))
    write_index_toc(site, pages)
    t_proc = time.time() - t0

    # 4. sphinx
    t0 = time.time()
    mj = ensure_mathjax()
    log('4/4 building HTML with Sphinx ...')
    out = DOCS/'_build'/'html'
    env = dict(os.environ, SOLARNB_DOCS_MATHJAX=str(mj or ''))
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-c', str(DOCS), '-d', str(DOCS/'_build'/'doctrees'),
           str(site), str(out)]
    r = subprocess.run(cmd, env=env, cwd=ROOT)
    t_sphinx = time.time() - t0
    failed = [n for n, s in status.items() if not s.get('ok', True)]
    log(f'\n{len(nbs)} pages; execute {t_exec:.0f} s, process {t_proc:.0f} s, sphinx {t_sphinx:.0f} s, '
        f'total {time.time()-t_start:.0f} s')
    if failed: log(f'notebooks that failed to execute (shown without outputs): {", ".join(sorted(failed))}')
    if r.returncode: sys.exit(f'sphinx failed (exit {r.returncode})')
    log(f'open {out/"index.html"}  (or: python -m http.server -d {out.relative_to(ROOT)} -b 127.0.0.1 8000)')

if __name__ == '__main__': main()
