"""The benchmarks: each measures one thing on this machine, as medians and ratios against a baseline
measured in the same run (never a timed unit test).

    python -m eval.bench                    # serving and indexing, torch against ONNX Runtime (`latency`)
    python -m eval.bench.chat               # the browser chat: start-up, then many clients at once
    python -m eval.bench.hostile            # a normal question's latency while another client attacks
    python -m eval.bench.gaps               # `tabot gaps` over 50,000 logged questions
    python -m eval.bench.lexical            # BM25 over a large chunk count
    python -m eval.bench.beside_caller      # Chroma's threads held beside the caller, or not

`report` writes `python -m eval.bench`'s table (bench.md). README ("Performance") keeps the current
figures, docs/performance.md how they came to be.
"""
