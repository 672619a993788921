# fig4b_decode_model.gp — §5.1: the paper's decode-step model. Predicted step time =
# (parameter bytes + B x cache bytes per sequence) / read bandwidth measured in the same
# run, beside the measured step time, over batch size B, for each cache length.
# Data: curve 'decode_model', series '<Family> len=<L> measured' and
#       '<Family> len=<L> predicted', x = batch size B, y = milliseconds per step.
fig = 'fig4b_decode_model'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'decode_model'; SUITE = 'latency'; YEXPR = 'y'
PTITLE = 'Decode step: measured vs (params + B x cache) / read bandwidth'
XL = 'batch size B'; YL = 'time per decode step (ms)'; LOGX = 2; LOGY = 10; FOOT = 1
load dir.'/curve_panel.gp'
