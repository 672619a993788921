# curve_panel_sd.gp — one panel of mean ± spread series (a subroutine, like
# curve_panel.gp): the means are curve CURVE, the spreads (the standard
# deviation over training seeds) curve CURVE.':sd' with the same series and
# x. Each series is drawn as its mean with a shaded band of ± one spread.
# Variables: CURVE, SUITE, PTITLE, XL, YL, LOGX, LOGY, FOOT, HINT, SWHERE (see curve_panel.gp).
if (!exists("HINT")) { HINT = '' }
if (!exists("LOGY")) { LOGY = 0 }
if (!exists("FOOT")) { FOOT = 1 }
if (!exists("SWHERE")) { SWHERE = '1' }
R = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
NS = (R eq '') ? 0 : num(sprintf("select count(distinct series) from curve where run_id=%s and name='%s' and (%s)", R, CURVE, SWHERE))
set title PTITLE
set xlabel XL
set ylabel YL
if (NS == 0) {
    eval(nodata(HINT ne '' ? 'no data yet — run: '.HINT : sprintf("no data yet — run: griffin run %s", SUITE)))
} else {
    if (LOGX > 0) { set logscale x LOGX } else { unset logscale x }
    if (LOGY > 0) { set logscale y LOGY } else { unset logscale y }
    if (FOOT) { eval(set_footnote(R)) }
    S(i) = sprintf("(select series from curve where run_id=%s and name='%s' and (%s) group by series order by series limit 1 offset %d)", R, CURVE, SWHERE, i - 1)
    Q(i) = sprintf("select a.x, a.y, coalesce(b.y, 0) from curve a left join curve b on b.run_id=a.run_id and b.name='%s:sd' and b.series=a.series and b.x=a.x where a.run_id=%s and a.name='%s' and a.series=%s order by a.x", CURVE, R, CURVE, S(i))
    set style fill transparent solid 0.18 noborder
    plot for [i=1:NS] sql(Q(i)) using 1:($2-$3):($2+$3) with filledcurves lc rgb famcol(val(sprintf("select %s", S(i)))) notitle, \
         for [i=1:NS] sql(Q(i)) using 1:2 with linespoints lc rgb famcol(val(sprintf("select %s", S(i)))) pt (5 + i % 4) ps 0.7 title val(sprintf("select %s", S(i))).' (mean ± sd over seeds)'
    set style fill empty
    unset label 99
    unset logscale
}
