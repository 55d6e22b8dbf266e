"""Run solarmask 1.0.5 on one SHARP record; print JSON {features, seconds}. numpy 2 lacks np.float/np.int: restore them here."""
import sys, json, os, time, tempfile, re
import numpy as np
np.float = float; np.int = int
from datetime import datetime
import solarmask.data, solarmask.active_region
from solarmask.active_region import ActiveRegion
src = sys.argv[1]; repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 1
files = os.listdir(src)
m = [re.match(r'hmi\.sharp_cea_720s\.(\d+)\.(\d{8}_\d{6})_TAI\.(\w+)\.fits', f) for f in files]
m = [x for x in m if x]
hnum = int(m[0].group(1)); date = datetime.strptime(m[0].group(2), '%Y%m%d_%H%M%S')
root = tempfile.mkdtemp()
for x in m:
    sub = 'continuum' if x.group(3) == 'continuum' else 'magnetogram'
    d = os.path.join(root, sub, f'sharp_{hnum}'); os.makedirs(d, exist_ok=True)
    os.symlink(os.path.join(os.path.abspath(src), x.group(0)), os.path.join(d, x.group(0)))
# solarmask reads these header keys from Br; tolerate their absence
solarmask.data.sharps_features[:] = []
times = []
for _ in range(repeat):
    t = time.perf_counter()
    ar = ActiveRegion(hnum, date, root)
    feats = {}
    feats.update({k: v for k, v in ar.baseline_dataset.items() if k not in ar.meta})
    feats.update({k: v for k, v in ar.segmented_dataset.items() if k not in ar.meta})
    feats.update({'background_' + k: v for k, v in ar.physical_features(ar.background_mask).items()})
    times.append(time.perf_counter() - t)
masks = {k: int(np.count_nonzero(getattr(ar, k + '_mask'))) for k in ['nl', 'umbra', 'penumbra', 'background']}
print(json.dumps({'features': feats, 'seconds': min(times), 'mask_pixels': masks, 'hnum': hnum, 'date': str(date)}))
