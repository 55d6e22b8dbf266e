# Sphinx configuration of solarnb's documentation site; `python docs/build.py` runs Sphinx with it on the
# notebooks it prepared in docs/_nbs/site (see build.py and README.md).
import configparser, os
from pathlib import Path

DOCS = Path(__file__).resolve().parent
_cfg = configparser.ConfigParser(); _cfg.read(DOCS.parent/'settings.ini')
_s = _cfg['DEFAULT']

project = _s.get('title', 'solarnb')
author = _s.get('author', '')
copyright = _s.get('copyright', '')
release = version = _s.get('version', '')

extensions = ['myst_nb']
exclude_patterns = ['_build', '**.ipynb_checkpoints', 'jupyter_execute']
templates_path = [str(DOCS/'_templates')]

# Notebooks arrive executed (build.py), myst-nb only renders them.
nb_execution_mode = 'off'
nb_render_markdown_format = 'myst'       # markdown outputs may hold tables and maths
nb_merge_streams = True
nb_ipywidgets_js = {}                    # no widget manager from a CDN: the site works offline
myst_enable_extensions = ['dollarmath', 'colon_fence', 'attrs_inline']
myst_heading_anchors = 4
myst_dmath_double_inline = True
suppress_warnings = ['mystnb.unknown_mime_type', 'misc.highlighting_failure', 'myst.header']

# MathJax from the local copy build.py fetched (docs/_mathjax/mathjax), else from the CDN.
_mj = Path(os.environ.get('SOLARNB_DOCS_MATHJAX') or DOCS/'_mathjax'/'mathjax')
html_static_path = [str(DOCS/'_static')]
if (_mj/'tex-mml-chtml.js').exists():
    html_static_path.append(str(_mj.parent))
    mathjax_path = 'mathjax/tex-mml-chtml.js'
html_css_files = ['solarnb.css']

html_theme = 'pydata_sphinx_theme'
html_title = f'{project} {release}'
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_sidebars = {'**': ['sidebar-notebooks']}
html_theme_options = {
    'navbar_center': [],
    'navbar_end': ['theme-switcher'],
    'navbar_persistent': ['search-button'],
    'secondary_sidebar_items': ['page-toc'],
    'show_toc_level': 2,
    'footer_start': ['copyright'],
    'footer_end': ['sphinx-version'],
    'show_prev_next': True,
    'navigation_with_keys': False,
}
html_context = {'default_mode': 'light'}   # an empty mode makes the theme log a console error
