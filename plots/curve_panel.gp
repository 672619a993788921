# curve_panel.gp — one panel of x/y series from the curve table (a subroutine:
# set the variables below, then `load dir.'/curve_panel.gp'`).
#   CURVE  curve name           YEXPR  SQL expression for y (e.g. 'y' or 'y/60')
#   SUITE  suite that fills it  PTITLE, XL, YL  panel title and axis labels
#   LOGX   0, 2 or 10           LOGY   0 or 10
#   FOOT   1: add the machine/commit footnote
#   HINT   what to run when there is no data (default: griffin run SUITE)
if (!exists("YEXPR")) { YEXPR = 'y' }
if (!exists("HINT")) { HINT = '' }
if (!exists("LOGY")) { LOGY = 0 }
if (!exists("FOOT")) { FOOT = 1 }
R = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
NS = (R eq '') ? 0 : num(sprintf("select count(distinct series) from curve where run_id=%s and name='%s'", R, CURVE))
set title PTITLE
set xlabel XL
set ylabel YL
if (NS == 0) {
    eval(nodata(HINT ne '' ? 'no data yet — run: '.HINT : sprintf("no data yet — run: griffin run %s", SUITE)))
} else {
    if (LOGX > 0) { set logscale x LOGX } else { unset logscale x }
    if (LOGY > 0) { set logscale y LOGY } else { unset logscale y }
    if (FOOT) { eval(set_footnote(R)) }
    S(i) = sprintf("(select series from curve where run_id=%s and name='%s' group by series order by series limit 1 offset %d)", R, CURVE, i - 1)
    plot for [i=1:NS] sql(sprintf("select x, %s from curve where run_id=%s and name='%s' and series=%s order by x", YEXPR, R, CURVE, S(i))) \
        using 1:2 with linespoints lc rgb famcol(val(sprintf("select %s", S(i)))) dt famdash(val(sprintf("select %s", S(i)))) pt (5 + i % 4) ps 0.8 \
        title val(sprintf("select %s", S(i)))
    unset label 99
    unset logscale
}
