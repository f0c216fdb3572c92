"""`python -m eval.bench`: the serving and indexing benchmark (`eval.bench.latency`)."""

from eval.bench.latency import main

raise SystemExit(main())
