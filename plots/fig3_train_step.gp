# fig3_train_step.gp — Fig. 3 (§4.3): training step time vs sequence length T at a fixed
# number of tokens per batch, relative to MQA at the shortest T (of the same width).
# Data: curve 'train_step_time', series '<Family> <size>' with the family first
#       ('MQA d=256', 'Hawk d=256', 'Griffin d=256'), x = T, y = seconds per step.
#       The reference is series 'MQA <same size>' at its smallest x (raw seconds if absent).
fig = 'fig3_train_step'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'train_step_time'; SUITE = 'throughput'
YEXPR = "y / coalesce((select c2.y from curve c2 where c2.run_id=curve.run_id and c2.name=curve.name and c2.series = 'MQA' || case when instr(curve.series,' ')>0 then substr(curve.series, instr(curve.series,' ')) else '' end order by c2.x limit 1), 1)"
PTITLE = 'Fig. 3: training step time vs sequence length, relative to MQA at the shortest length'
XL = 'sequence length T (tokens per batch fixed)'; YL = 'step time / MQA step time at shortest T'; LOGX = 2; LOGY = 0; FOOT = 1
load dir.'/curve_panel.gp'
