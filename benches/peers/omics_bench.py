"""Peer side of benches/omics_vs_peers.rs (run in the environment of ../shared/peers/install.sh, one
thread): `gsea EXPR.tsv SETS.gmt OUTDIR` times gseapy's ssgsea and gsva on the matrix the bench wrote;
`score H5AD GENES OUT` times scanpy's score_genes on the cells the bench wrote. Prints JSON timings
and writes the peers' scores for the bench to compare."""
import json, os, sys, time
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np, pandas as pd

def timed(f, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter(); out = f(); times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2], out

mode = sys.argv[1]
if mode == "gsea":
    import gseapy
    expr = pd.read_csv(sys.argv[2], sep="\t", index_col=0)
    gmt, outdir = sys.argv[3], sys.argv[4]
    t_ss, ss = timed(lambda: gseapy.ssgsea(data=expr, gene_sets=gmt, outdir=None, sample_norm_method="rank", threads=1, min_size=15, max_size=500), 1)
    ss.res2d[["Name", "Term", "ES", "NES"]].to_csv(os.path.join(outdir, "gseapy_ssgsea.tsv"), sep="\t", index=False)
    t_gv, gv = timed(lambda: gseapy.gsva(data=expr, gene_sets=gmt, outdir=None, threads=1, min_size=15, max_size=500), 1)
    gv.res2d[["Name", "Term", "ES"]].to_csv(os.path.join(outdir, "gseapy_gsva.tsv"), sep="\t", index=False)
    print(json.dumps({"ssgsea_s": t_ss, "gsva_s": t_gv}))
elif mode == "score":
    import scanpy as sc
    a = sc.read_h5ad(sys.argv[2])
    genes = sys.argv[3].split(",")
    t, s = timed(lambda: sc.tl.score_genes(a, genes, ctrl_size=100000, copy=True, use_raw=False).obs["score"].values, 5)
    np.savetxt(sys.argv[4], s, fmt="%.9g")
    print(json.dumps({"score_genes_s": t}))
