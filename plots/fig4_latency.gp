# fig4_latency.gp — Fig. 4 (§5, App. F): time to sample N tokens at batch B, from an
# empty prompt and from a long prompt.
# Data: curve 'decode_latency', series '<Family> prompt=<P>' (e.g. 'MQA prompt=4096'),
#       x = tokens sampled, y = seconds (total time to sample x tokens).
fig = 'fig4_latency'
load (exists("dir") ? dir : 'plots').'/common.gp'
CURVE = 'decode_latency'; SUITE = 'latency'; YEXPR = 'y'
PTITLE = 'Fig. 4: latency of sampling N tokens'
XL = 'tokens sampled'; YL = 'time (s)'; LOGX = 0; LOGY = 0; FOOT = 1
load dir.'/curve_panel.gp'
