# fig4b_decode_model.gp — §5.1: the paper's decode-step model. Predicted step time =
# (weight bytes + B x cache bytes per sequence) / read bandwidth measured in the same
# run (dashed: the memory limit the step is judged against), beside the measured step
# time (solid), over batch size B: small multiples, one panel per weight storage (rows)
# and cache length (columns), one colour per family. The bandwidth in the title is the
# run's curve 'roofline_limits' series 'GB/s' (the one the predictions used).
# Data: curve 'decode_model', series '<Family> <weights> len=<L> measured' and
#       '<Family> <weights> len=<L> predicted' (older runs: '<Family> len=<L> ...'),
#       x = batch size B, y = milliseconds per step.
fig = 'fig4b_decode_model'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'decode_model'
R = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
NS = (R eq '') ? 0 : num(sprintf("select count(distinct series) from curve where run_id=%s and name='%s'", R, CURVE))
if (NS == 0) {
    set title 'Decode step: measured vs (weights + B x cache) / read bandwidth'
    eval(nodata('no data yet — run: griffin run latency'))
} else {
    FROM = sprintf("from curve where run_id=%s and name='%s'", R, CURVE)
    WS = val(sprintf("select group_concat(w, ' ') from (select distinct case when series like '%% f32 len=%%' then 'f32' when series like '%% bf16 len=%%' then 'bf16' else '' end w %s order by w desc)", FROM))
    LS = val(sprintf("select group_concat(l, ' ') from (select distinct cast(substr(series, instr(series, 'len=') + 4) as integer) l %s order by l)", FROM))
    NW = words(WS) > 0 ? words(WS) : 1
    NL = words(LS) > 0 ? words(LS) : 1
    eval(set_footnote(R))
    eval(limits_of(R))
    set logscale x 2
    set logscale y 10
    set key top left font ',8'
    set multiplot layout NW, NL title 'Decode step: measured (solid) vs its memory limit, (weights + B x cache) / read bandwidth (dashed)'.(BW > 0 ? sprintf(', %.1f GB/s measured in this run', BW) : '')
    do for [wi = 1:NW] {
        do for [li = 1:NL] {
            PAT = (word(WS, wi) eq '' ? '' : ' '.word(WS, wi)).' len='.word(LS, li).' '
            set title sprintf('%s weights, cache %s tokens', word(WS, wi) eq '' ? 'fp32' : word(WS, wi), word(LS, li))
            set xlabel 'batch size B'
            set ylabel 'ms per decode step'
            NP = num(sprintf("select count(distinct series) %s and series like '%%%s%%'", FROM, PAT))
            S(i) = sprintf("(select series %s and series like '%%%s%%' group by series order by series limit 1 offset %d)", FROM, PAT, i - 1)
            plot for [i=1:NP] sql(sprintf("select x, y %s and series=%s order by x", FROM, S(i))) \
                using 1:2 with linespoints lc rgb famcol(val(sprintf("select %s", S(i)))) dt famdash(val(sprintf("select %s", S(i)))) pt 7 ps 0.6 \
                title word(val(sprintf("select %s", S(i))), 1).(famdash(val(sprintf("select %s", S(i)))) == 2 ? ' memory limit' : ' measured')
            unset label 99
        }
    }
    unset multiplot
    unset logscale
}
