#!/usr/bin/python3
"""Write small .npy files with numpy itself (an independent writer) for tests/test_npy_json.cpp.

Run once: /usr/bin/python3 tools/make_npy_fixtures.py   (needs Debian's python3-numpy)
Each file holds a known pattern so the C++ test can check values by formula, not by copying.
"""
import os

import numpy as np
from numpy.lib import format as npf

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "npy")
os.makedirs(out, exist_ok=True)

base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5 - 3.0  # -3.0, -2.5, ..., 8.5
np.save(os.path.join(out, "f8.npy"), base)
np.save(os.path.join(out, "f4.npy"), base.astype(np.float32))
np.save(os.path.join(out, "f2.npy"), base.astype(np.float16))
np.save(os.path.join(out, "i4.npy"), (np.arange(6, dtype=np.int32) - 2).reshape(2, 3))
np.save(os.path.join(out, "i8.npy"), np.array([2**40 + 1, -5, 7], dtype=np.int64))  # not exact in float32
np.save(os.path.join(out, "u1.npy"), np.array([0, 1, 255], dtype=np.uint8))
np.save(os.path.join(out, "b1.npy"), np.array([True, False, True]))
np.save(os.path.join(out, "scalar.npy"), np.float32(3.25))
np.save(os.path.join(out, "empty.npy"), np.zeros((0, 5), dtype=np.float32))
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(base.astype(np.float32)))
np.save(os.path.join(out, "bigendian.npy"), base.astype(">f4"))
for v in [(2, 0), (3, 0)]:
    with open(os.path.join(out, f"v{v[0]}.npy"), "wb") as f:
        npf.write_array(f, base.astype(np.float32), version=v)
# f16 special values: subnormal, inf, -0, nan
np.save(os.path.join(out, "f2_special.npy"), np.array([6e-8, np.inf, -0.0, np.nan, 65504.0], dtype=np.float16))
# the reference's saved similarities (vse_infty evaluation.evalrank(save_path=...)): np.save of a dict,
# i.e. a 0-d object array whose data is a pickle; 3 images x 15 captions, float32 as numpy's matmul
# of float32 embeddings gives, and the same matrix as a plain .npy to compare with
rng = np.random.RandomState(7)
sims = rng.uniform(-1, 1, size=(3, 15)).astype(np.float32)
for k in range(3):
    sims[k, 5 * k + 1] += 0.9  # each image's second caption ranks high
np.save(os.path.join(out, "results_ref.npy"), {"npts": 3, "sims": sims})
np.save(os.path.join(out, "results_ref_sims.npy"), sims.astype(np.float64))
# the same dict as numpy 2 names its pickling function (numpy._core), with a float64 matrix
import pickle
payload = pickle.dumps(np.array({"npts": 3, "sims": sims.astype(np.float64)}, dtype=object), protocol=3)
payload = payload.replace(b"numpy.core.multiarray", b"numpy._core.multiarray")
with open(os.path.join(out, "results_ref_np2.npy"), "wb") as f:
    npf.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
    f.write(payload)
print("wrote", sorted(os.listdir(out)))
