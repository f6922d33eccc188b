"""Times pyradiomics 3.0.1 with its default settings (RadiomicsFeatureExtractor(): original image,
bin width 25, label 1, no filters, 107 features) for the Rust benchmark radiomics_vs_pyradiomics.

Usage: python pyradiomics_bench.py LUNG1_IMAGE LUNG1_MASK LUNG1_REPEATS BATCH.csv

1. lung1, end to end: median seconds of `extractor.execute(image_path, mask_path)` (SimpleITK reads
   the files inside pyradiomics).
2. lung1, extraction only: median seconds of `extractor.execute(sitk_image, sitk_mask)` on images read
   beforehand.
3. The batch: BATCH.csv has columns patient,image,mask; every row is extracted end to end from its
   files in one plain loop, timed as a whole. A row that pyradiomics refuses is listed with its error
   and the loop goes on.

SimpleITK is held to one thread. Prints one JSON object on stdout: the timings, lung1's features and
every patient's features (NaN and infinities as null), for the agreement check on the Rust side.
"""
import csv
import json
import logging
import math
import statistics
import sys
import time

import SimpleITK as sitk
import radiomics
from radiomics import featureextractor

sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
radiomics.setVerbosity(logging.CRITICAL)  # stderr only; the logger keeps its default level

lung_image, lung_mask, lung_repeats, batch_csv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
extractor = featureextractor.RadiomicsFeatureExtractor()


def features(result):
    """The feature values (not the diagnostics) as plain floats, NaN and infinities as None."""
    out = {}
    for name, value in result.items():
        if name.startswith("diagnostics_"):
            continue
        v = float(value)
        out[name] = v if math.isfinite(v) else None
    return out


def median_seconds(repeats, f):
    times, last = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        last = f()
        times.append(time.perf_counter() - start)
    return statistics.median(times), last


lung_e2e_s, _ = median_seconds(lung_repeats, lambda: extractor.execute(lung_image, lung_mask))
image, mask = sitk.ReadImage(lung_image), sitk.ReadImage(lung_mask)
lung_extract_s, lung_result = median_seconds(lung_repeats, lambda: extractor.execute(image, mask))

with open(batch_csv, newline="") as f:
    rows = list(csv.DictReader(f))
batch_features, batch_failed = {}, {}
start = time.perf_counter()
for row in rows:
    try:
        batch_features[row["patient"]] = extractor.execute(row["image"], row["mask"])
    except Exception as e:  # a planted defect: pyradiomics' own error, the loop goes on
        batch_failed[row["patient"]] = "%s: %s" % (type(e).__name__, e)
batch_s = time.perf_counter() - start

json.dump({
    "pyradiomics_version": radiomics.__version__,
    "simpleitk_version": sitk.Version.VersionString(),
    "lung1_end_to_end_median_s": lung_e2e_s,
    "lung1_extract_median_s": lung_extract_s,
    "lung1_features": features(lung_result),
    "batch_s": batch_s,
    "batch_features": {p: features(r) for p, r in batch_features.items()},
    "batch_failed": batch_failed,
}, sys.stdout)
