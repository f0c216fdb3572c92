"""The post reader: a student's post read as a TA reads it.

`focus.read_post` turns what was pasted into a `Post`: the question it asks (the focus), the prose
around it without the page, thread, code, quotes and greetings it came with (`prose`, `bylines`,
`page_furniture`, `thread_end`, `line_shapes`), and what it says on the side: where the question
comes from (`where_asked`) and a question added after it (`off_course`). `spelling`,
`abbreviations` and `glossary` read its words as the knowledge base writes them. The reader works on
text alone: it imports no encoder and no index, only the lexical tokenizer (`bot.search.lexical`)
and the knowledge base's entries (`tests/test_architecture.py` keeps it so).
"""
