# scan.gp — RG-LRU scan variants (§4.2, App. D): achieved memory bandwidth vs T, log2 x,
# against the copy bandwidth measured in the same run (a black line).
# Data, first found wins:
#   curves 'scan_gbps' (the linear scan h = a h + u, left panel) and 'rglru_gbps' (the
#       RG-LRU layer, right panel): series = '<variant> C=<width>', x = T, y = GB/s; the
#       limit: curve 'roofline_limits' series 'copy GB/s' (written by griffin run kernels);
#   else Google Benchmark results imported with `griffin import-gbench`: cases whose name
#       starts with 'scan', metric 'bytes_per_second', x = params.T (ArgNames T:) or
#       params.args[0]; one series per case name and the other params (B, C, threads);
#       cases named 'rglru...' (the fused layer) are included; the limit: the import's
#       'roofline_limits' series 'GB/s' when the bench context carried it.
fig = 'scan'
load (exists("dir") ? dir : 'plots').'/common.gp'
PTITLE = 'RG-LRU scan variants: achieved bandwidth vs sequence length'
RC = (run ne '') ? run : val("select coalesce(max(run_id),'') from curve where name='scan_gbps'")
NC = (RC eq '') ? 0 : num(sprintf("select count(*) from curve where run_id=%s and name in ('scan_gbps','rglru_gbps')", RC))
GBW = "from result r join bench_case c on c.id=r.case_id where (c.name like 'scan%' or c.name like 'rglru%') and r.metric='bytes_per_second'"
RG = (run ne '') ? run : val(sprintf("select coalesce(max(r.run_id),'') %s", GBW))
NG = (RG eq '') ? 0 : num(sprintf("select count(distinct c.name || ' ' || json_remove(c.params,'$.T')) %s and r.run_id=%s", GBW, RG))
# limit(r, s): the run's roofline_limits value of series s (0 when not stored)
limit(r, s) = num(sprintf("select coalesce(max(y),0) from curve where run_id=%s and name='roofline_limits' and series='%s'", r, s))
set xlabel 'sequence length T'
set ylabel 'bandwidth (GB/s)'
if (NC > 0) {
    BW = limit(RC, 'copy GB/s')
    eval(set_footnote(RC))
    set logscale x 2
    set key top right font ',8'
    set multiplot layout 1, 2 title PTITLE.sprintf(' (black: copy bandwidth of this run, %.1f GB/s)', BW)
    do for [pi = 1:2] {
        CV = pi == 1 ? 'scan_gbps' : 'rglru_gbps'
        set title (pi == 1 ? 'linear scan h = a h + u (reads a, u; writes h)' : 'RG-LRU layer (reads x and both gates; writes y)')
        NS = num(sprintf("select count(distinct series) from curve where run_id=%s and name='%s'", RC, CV))
        S(i) = sprintf("(select series from curve where run_id=%s and name='%s' group by series order by series limit 1 offset %d)", RC, CV, i - 1)
        plot (BW > 0 ? BW : NaN) with lines lw 2 lc rgb 'black' title 'copy GB/s', \
             for [i=1:NS] sql(sprintf("select x, y from curve where run_id=%s and name='%s' and series=%s order by x", RC, CV, S(i))) \
             using 1:2 with linespoints pt (5 + i % 4) ps 0.8 title val(sprintf("select %s", S(i)))
        unset label 99
    }
    unset multiplot
    unset logscale
} else {
    set title PTITLE
    if (NG == 0) {
        eval(nodata('no data yet — run: griffin run kernels'))
    } else {
        BW = limit(RG, 'GB/s')
        set logscale x 2
        eval(set_footnote(RG))
        XE = "coalesce(json_extract(c.params,'$.T'), json_extract(c.params,'$.args[0]'))"
        K(i) = sprintf("(select c.name || ' ' || json_remove(c.params,'$.T') %s and r.run_id=%s group by 1 order by 1 limit 1 offset %d)", GBW, RG, i - 1)
        plot (BW > 0 ? BW : NaN) with lines lw 2 lc rgb 'black' title 'memory bandwidth (GB/s)', \
            for [i=1:NG] sql(sprintf("select %s, r.median/1e9, coalesce(r.mad,0)/1e9 %s and r.run_id=%s and c.name || ' ' || json_remove(c.params,'$.T') = %s order by 1", XE, GBW, RG, K(i))) \
            using 1:2:3 with yerrorlines pt 7 ps 0.8 title val(sprintf("select %s", K(i)))
    }
}
