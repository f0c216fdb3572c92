"""The post reader: a student's post read as a TA reads it, before anything is searched.

`focus.read_post` turns what was pasted into a `Post`: the question it asks (the focus), the prose
around it without the page, thread, code, quotes and greetings it came with (`prose`, `bylines`,
`page_furniture`, `thread_end`, `line_shapes`), and what it names on the side (`where_asked`,
`off_course`). `spelling`, `abbreviations` and `glossary` read the words as the knowledge base writes
them. The reader works on text alone: it imports no encoder and no index, only the lexical tokenizer
(`bot.search.lexical`) and the knowledge base's entries (`tests/test_architecture.py` keeps it so).
"""
