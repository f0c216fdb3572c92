"""Other choices the abstention model could rest on, each measured beside today's in the same run.

    python -m eval.variants classifiers      # other forms of model on today's eight features
    python -m eval.variants chunks           # the TA answers cut into other chunks
    python -m eval.variants lexical-weight   # BM25's weight in the ranking score
    python -m eval.variants synonyms [FILE] [--without-second-meanings] [--answers-only]
    python -m eval.variants code             # the code a post pastes read as words
    python -m eval.variants thresholds       # a threshold per entry, or a conformal bound
    python -m eval.variants density          # how typical a post is of the answers' questions, against the near misses
    python -m eval.variants feedback [--written TERM1 TERM2] [--misses-to DIR]
                                             # staff's additions from one term's misses, on the next
    python -m eval.variants written FILE     # the knowledge base grown by the lines staff wrote (JSON)
    python -m eval.variants prose-near-miss  # the near miss read word by word from the whole post, not its question
    python -m eval.variants idf              # the question's words weighed by their rarity among the course's texts
    python -m eval.variants crux             # the near miss read at the question's word that leans most towards one
    python -m eval.variants without-each     # today's model with each of its eight features left out in turn
    python -m eval.variants layers           # every word piece from an earlier layer of MiniLM (torch; slow)

Kinds of idea that no session had measured (docs/tried-ideas.md, last section), measured the way
features are chosen: the calibration splits cross-validated by thread with the refit rule
(`eval.calibrate.cross_validation.cross_validate`), then each entry left out of the fit (`new_entry_recall`); and the
blind development sets, read the same way and decided by the model and threshold the refit rule fits
on all calibration rows (`scoring.development_rates`; the bot's other layers, such as the course check
and small talk, are not run, so these are the model's own decisions). Every variant is printed after
today's choice, from the same run. Nothing here changes what the bot reads: a variant swaps one seam
(`bot.search.chunks.entry_chunks`, `bot.search.retrieve.LEXICAL_WEIGHT`,
`bot.search.reading.abbreviations.GLOSSARY`) for the length of its own reading, in its own temporary index.

The modules, one kind of variant each, over one way of scoring them:
- `scoring`: how every variant is scored and printed (`report_variant`, `report_curves`), and the
  rows' plumbing (`read_both`, `with_column`, `rows_where`); `eval.second_opinion` scores with it too;
- `paired`: each variant against today's choice row by row, on the same folds, with a 95 % interval
  from resampling whole threads: whether the rows can tell the difference from chance;
- `models`: other classifiers and other threshold rules on today's features (`classifiers`,
  `thresholds`);
- `readings`: the course or the post read otherwise (`chunks`, `lexical-weight`, `synonyms`, `code`);
- `features`: more features from what today's reading already holds (`density`, `prose-near-miss`,
  `idf`, `crux`); `scoring.without_column` takes one of today's away (`without-each`);
- `layers`: every word piece from an earlier layer of MiniLM (`layers`);
- `staff`: the knowledge base grown by what staff add (`feedback`, `written`);
- `__main__`: the command.
"""
