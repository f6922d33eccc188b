"""Times lifelines on the CSV the Rust benchmark wrote: CoxPHFitter (Efron) and concordance_index.

Usage: python lifelines_bench.py DATA.csv N_COVARIATES COX_REPEATS C_REPEATS
Prints one JSON object: median seconds of each, and the fitted coefficients and C for a sanity check.
"""
import json
import statistics
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index

path, p, cox_repeats, c_repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
df = pd.read_csv(path)
covariates = ["x%d" % j for j in range(p)]

cox_times = []
for _ in range(cox_repeats):
    start = time.perf_counter()
    cph = CoxPHFitter().fit(df[covariates + ["time", "event"]], "time", "event")
    cox_times.append(time.perf_counter() - start)

c_times = []
for _ in range(c_repeats):
    start = time.perf_counter()
    c = concordance_index(df["time"], -df["risk"], df["event"])
    c_times.append(time.perf_counter() - start)

print(json.dumps({
    "cox_median_s": statistics.median(cox_times),
    "c_median_s": statistics.median(c_times),
    "coef": [float(cph.params_[k]) for k in covariates],
    "c_index": float(c),
}))
