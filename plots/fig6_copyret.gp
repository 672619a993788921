# fig6_copyret.gp — Fig. 6 (§6.2): copy and retrieval, three panels.
# Data (series = family: 'MQA', 'Hawk', 'Griffin'; y = accuracy in [0, 1], the mean over
# training seeds; the same name + ':sd' holds the standard deviation over seeds, drawn as a band):
#   curve 'selcopy_acc_by_step'    x = training steps        (6a, Selective Copying)
#   curve 'induction_acc_by_len'   x = evaluation length     (6b, Induction Heads, log2 x)
#   curve 'phonebook_acc_by_size'  x = phonebook entries     (6c, Phonebook lookup)
#   curve 'mqar_acc_by_pairs'      x = key-value pairs       (6d, MQAR)
fig = 'fig6_copyret'
load (exists("dir") ? dir : 'plots').'/common.gp'
SUITE = 'copyret'; YEXPR = 'y'; LOGY = 0
set multiplot layout 2,2 title 'Fig. 6: copy and retrieval' noenhanced
set yrange [0:1.05]
CURVE = 'selcopy_acc_by_step'; PTITLE = '(a) Selective Copying'; XL = 'training steps'; YL = 'accuracy'; LOGX = 0; FOOT = 0
load dir.'/curve_panel_sd.gp'
set yrange [0:1.05]
CURVE = 'induction_acc_by_len'; PTITLE = '(b) Induction Heads'; XL = 'evaluation length'; LOGX = 2; FOOT = 0
load dir.'/curve_panel_sd.gp'
set yrange [0:1.05]
CURVE = 'phonebook_acc_by_size'; PTITLE = '(c) Phonebook lookup'; XL = 'phonebook entries'; LOGX = 0; FOOT = 0
load dir.'/curve_panel_sd.gp'
set yrange [0:1.05]
CURVE = 'mqar_acc_by_pairs'; PTITLE = '(d) MQAR'; XL = 'key-value pairs'; LOGX = 0; FOOT = 1
load dir.'/curve_panel_sd.gp'
unset multiplot
