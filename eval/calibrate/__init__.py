"""Fit the retriever's abstention rule on the calibration splits and write `bot/search/calibration.json`.

    python -m eval.calibrate [--data-dir DIR]
    python -m eval.calibrate --cross-validate      # compare feature sets; writes nothing
    python -m eval.calibrate --operating-curve     # what moving the threshold trades; writes nothing
    python -m eval.calibrate --reliability         # held-out confidence against answers right; writes nothing
    python -m eval.calibrate --by-shape            # held-out rates per shape of the real-phrasing posts
    python -m eval.calibrate --learning-curve      # held-out rates fitted on a share of the threads

The calibration splits: `calibration.jsonl` (short, synthetic) and the `calibration` side of
`real_posts.jsonl` (long posts in the shape of real ones, split by thread). How: for every
calibration question (cleaned as `Tabot.ask` cleans it) take the top-ranked entry's eight
features - its best cosine to the post's focus, its best cosine to the whole prose, the share
of the focus's content terms it contains, the semantic coverage of the focus's and of the
prose's words by the entry's (`bot.search.token_match`), the prose's cosine to the course's
centroid (`KnowledgeIndex.corpus_centroid`), and how much nearer the prose is to a near miss
than the focus to the entry (`bot.search.retrieve.near_miss_margin`), and how much better the
focus's words agree with the closest near misses than with the entry's own questions
(`bot.search.token_match.best_agreement`) - and the label "in scope"
(the question has expected entries). Fit a logistic regression (Newton's method, small L2) so the confidence is a
probability, then set the decline threshold with `eval.metrics.abstention.best_threshold` - the
same function, on the same questions, that sets both baselines' thresholds - over the confidence the
bot thresholds: that of the most confident of the ranking's three candidates (`Candidates`,
`decide`), the entry the bot answers from. The calibration
splits are disjoint from every test split the eval reports on, so no reported number was tuned
on its own questions. Features are chosen the same way: `--cross-validate` fits and thresholds on
calibration rows only, grouped by thread, and scores the held-out ones. It also fits each feature set
without one entry's questions and scores those (`new_entry_recall`): what a refit answers about an
entry staff add after it. `--operating-curve` moves the rule's threshold up and down in the same
cross-validation: what any threshold on these features trades, and whether some point meets a pair of
targets (answered and right, out of scope declined) at all. `--by-shape` splits the same held-out
judgements of the real-phrasing rows by what each post does (its `shape` tags: long, formula, title
line, ...): where, on the calibration side, the model is weakest. `--learning-curve` fits the rule on
a quarter, a half, three quarters and all of the training folds' threads and scores the same held-out
folds: whether labelling more posts of the kind the splits hold would still move the rates.

The package, by what each part does:

- `eval.calibrate.fit`: the model and the refit rule (`fit_logistic`, `refit_rule`, `decide`): what is
  fitted on which rows and which confidence is thresholded; nothing here reads a post.
- `eval.calibrate.cross_validation`: the same rule fitted on some calibration rows and scored on the
  others (`cross_validate`, `held_out`, `new_entry_recall`), and what `--reliability`,
  `--operating-curve`, `--by-shape` and `--learning-curve` print from it.
- `eval.calibrate.rows`: the calibration questions read as the bot reads them (`calibration_rows`,
  `read_as_the_bot`, `course_retriever`); with the command, the only part that imports the bot (when
  rows are made).
- `eval.calibrate.__main__`: the command.
"""
