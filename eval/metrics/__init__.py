"""Metrics, one module per family (ragas style): each is a pure function over plain values.

retrieval     hit@k, reciprocal rank, all-expected-answered
abstention    confusion counts, precision / recall / F1 (positive class = "abstain")
faithfulness  share of answer sentences supported by their cited TA text (bot.answering.support)
demos         share of attached claims whose demo passed
latency       median and p95 per stage
meta          balanced accuracy of the support scorer, overall and per perturbation kind
"""
