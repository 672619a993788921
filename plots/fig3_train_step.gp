# fig3_train_step.gp — Fig. 3 (§4.3): training step time vs sequence length T at a fixed
# number of tokens per batch, relative to MQA at the shortest T of the same width (the
# paper's axis: runtime relative to MQA at 2K), one panel per width as the paper has one
# per model size. Dashed: each step's compute limit (3x the forward FLOPs at the sgemm
# rate measured in the same run), divided by the same MQA step time.
# Data: curve 'train_step_time', series '<Family> <size>' with the family first
#       ('MQA d=256', 'Hawk d=256', 'Griffin d=256'), x = T, y = seconds per step;
#       curve 'train_step_time:limit' (same series and x), y = seconds at the limit;
#       curve 'roofline_limits' series 'GFLOP/s' (the rate, for the title).
#       The reference is series 'MQA <same size>' at its smallest x (raw seconds if absent).
fig = 'fig3_train_step'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'train_step_time'; SUITE = 'throughput'
YEXPR = "y / coalesce((select c2.y from curve c2 where c2.run_id=curve.run_id and c2.name='train_step_time' and c2.series = 'MQA' || case when instr(curve.series,' ')>0 then substr(curve.series, instr(curve.series,' ')) else '' end order by c2.x limit 1), 1)"
XL = 'sequence length T (tokens per batch fixed)'; YL = 'step time / MQA step time at shortest T'; LOGX = 2; LOGY = 0; YZERO = 1
RF = (run ne '') ? run : val(sprintf("select coalesce(max(run_id),'') from curve where name='%s'", CURVE))
# the sizes: what follows the family in the series names, narrowest first
SZ = (RF eq '') ? '' : val(sprintf("select group_concat(z, ' ') from (select distinct substr(series, instr(series,' ')+1) z from curve where run_id=%s and name='%s' and instr(series,' ')>0 order by cast(substr(z, instr(z,'=')+1) as integer))", RF, CURVE))
eval(limits_of(RF))
T1 = 'Fig. 3: training step time vs sequence length, relative to MQA at the shortest length'
T2 = PK > 0 ? sprintf("\nsolid: measured; dashed: compute limit (3x forward FLOPs at %.0f GFLOP/s, the sgemm rate measured in this run)", PK) : ''
if (words(SZ) <= 1) {
    PTITLE = T1.T2; SWHERE = '1'; FOOT = 1
    load dir.'/curve_panel.gp'
} else {
    set multiplot layout 1, words(SZ) title T1.T2 noenhanced
    do for [zi = 1:words(SZ)] {
        PTITLE = 'model width '.word(SZ, zi); SWHERE = "series like '% ".word(SZ, zi)."'"; FOOT = (zi == words(SZ)); KEYCUT = ' '.word(SZ, zi)
        load dir.'/curve_panel.gp'
    }
    unset multiplot
}
