# scan.gp — RG-LRU scan variants (§4.2, App. D): achieved memory bandwidth vs T, log2 x.
# Data, first found wins:
#   curve 'scan_gbps': series = variant ('seq', 'chunked', 'assoc', 'cuda_seq', ...),
#       x = T, y = GB/s  (written by the scan suite);
#   else Google Benchmark results imported with `griffin import-gbench`: cases whose name
#       starts with 'scan', metric 'bytes_per_second', x = params.T (ArgNames T:) or
#       params.args[0]; one series per case name and the other params (B, C, threads);
#       cases named 'rglru...' (the fused layer) are included.
fig = 'scan'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'scan_gbps'; SUITE = 'scan'; YEXPR = 'y'
# no suite writes scan_gbps yet: the hint names the bench and the import that fill it
HINT = 'build/griffin-bench --benchmark_filter=scan --benchmark_out=scan.json; griffin import-gbench scan.json'
PTITLE = 'RG-LRU scan variants: achieved bandwidth vs sequence length'
XL = 'sequence length T'; YL = 'bandwidth (GB/s)'; LOGX = 2; LOGY = 0; FOOT = 1
RC = (run ne '') ? run : val("select coalesce(max(run_id),'') from curve where name='scan_gbps'")
NC = (RC eq '') ? 0 : num(sprintf("select count(*) from curve where run_id=%s and name='scan_gbps'", RC))
GBW = "from result r join bench_case c on c.id=r.case_id where (c.name like 'scan%' or c.name like 'rglru%') and r.metric='bytes_per_second'"
RG = (run ne '') ? run : val(sprintf("select coalesce(max(r.run_id),'') %s", GBW))
NG = (RG eq '') ? 0 : num(sprintf("select count(distinct c.name || ' ' || json_remove(c.params,'$.T')) %s and r.run_id=%s", GBW, RG))
if (NC > 0 || NG == 0) {
    load dir.'/curve_panel.gp'
} else {
    set title PTITLE
    set xlabel XL
    set ylabel YL
    set logscale x 2
    eval(set_footnote(RG))
    XE = "coalesce(json_extract(c.params,'$.T'), json_extract(c.params,'$.args[0]'))"
    K(i) = sprintf("(select c.name || ' ' || json_remove(c.params,'$.T') %s and r.run_id=%s group by 1 order by 1 limit 1 offset %d)", GBW, RG, i - 1)
    plot for [i=1:NG] sql(sprintf("select %s, r.median/1e9, coalesce(r.mad,0)/1e9 %s and r.run_id=%s and c.name || ' ' || json_remove(c.params,'$.T') = %s order by 1", XE, GBW, RG, K(i))) \
        using 1:2:3 with yerrorlines pt 7 ps 0.8 title val(sprintf("select %s", K(i)))
}
