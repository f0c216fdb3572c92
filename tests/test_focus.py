"""Reading a post like a TA: the question inside a long post (bot/search/focus.py)."""

from bot.search.focus import MAX_FOCUS_WORDS, prose_of, read_post


def test_the_question_asked_last_is_the_focus_and_context_is_prose() -> None:
    post = read_post("Hi team,\n\nI was reading the Adam paper and it keeps the squared gradients. "
                     "My friend says that is curvature information. Is Adam a second order method?\n\n"
                     "Thanks in advance!")
    assert post.focus == "Is Adam a second order method?"
    assert post.prose.startswith("I was reading the Adam paper")  # the greeting is gone
    assert "Thanks" not in post.prose  # and the sign-off
    assert post.is_long


def test_code_traces_quotes_links_and_mentions_are_context_not_prose() -> None:
    text = ("@prof_x I ran this:\n```python\nloss = F.nll_loss(torch.log(probs), y)\nprint(loss)\n```\n"
            "Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n"
            "RuntimeError: expected scalar type Long\n"
            "> the docs say NLLLoss expects log-probabilities\n"
            "See https://pytorch.org/docs/stable/nn.html and [the forum](https://discuss.pytorch.org/t/1).\n"
            "Is `nn.NLLLoss` after log_softmax the same as cross entropy?")
    prose = prose_of(text)
    for gone in ("loss = F.nll_loss", "Traceback", "RuntimeError", "the docs say", "https://", "@prof_x"):
        assert gone not in prose, gone
    assert "the forum" in prose and "nn.NLLLoss" in prose  # link text and inline code name the topic
    assert read_post(text).focus == "Is nn.NLLLoss after log_softmax the same as cross entropy?"


def test_a_question_too_short_to_stand_alone_takes_the_sentence_before() -> None:
    post = read_post("I used BFS order for the backward pass of my autograd engine and the gradients are wrong. "
                     "Any ideas?")
    assert post.focus.startswith("I used BFS order") and post.focus.endswith("Any ideas?")


def test_a_question_that_points_back_takes_the_sentence_it_points_to() -> None:
    # Long enough to stand alone by its word count, but "those two options" means nothing alone.
    post = read_post("I built the model with F.cross_entropy on raw outputs. Shouldn't it be either softmax "
                     "plus cross-entropy or log_softmax plus NLL? Or are those two options the same loss anyway?")
    assert "Shouldn't it be either" in post.focus and post.focus.endswith("the same loss anyway?")
    # A question that names its own subject stays alone, and the parts never fold into each other.
    alone = read_post("I trained for ten epochs. Why does my validation loss go up while training loss falls?")
    assert alone.focus == "Why does my validation loss go up while training loss falls?"
    assert post.questions[-1] == "Or are those two options the same loss anyway?"


def test_without_a_question_mark_the_last_sentences_are_the_focus() -> None:
    post = read_post("Context about my homework. I wonder whether the log base changes the optimal weights")
    assert post.focus == "I wonder whether the log base changes the optimal weights"


def test_a_one_line_question_is_its_own_focus_and_prose() -> None:
    post = read_post("why is KL divergence not symmetric")
    assert post.focus == post.prose == "why is KL divergence not symmetric" and not post.is_long


def test_several_questions_are_kept_in_order_and_the_focus_is_bounded() -> None:
    post = read_post("Two things. Which log base does NLL use? And is NLL the same as cross-entropy?")
    assert post.questions == ("Which log base does NLL use?", "And is NLL the same as cross-entropy?")
    rambling = "why " + "really " * 500 + "is it so?"
    assert len(read_post(rambling).focus.split()) <= MAX_FOCUS_WORDS


def test_a_post_that_is_all_code_still_has_something_to_search() -> None:
    post = read_post("```\nx = softmax(z)\n```")
    assert post.focus and post.prose  # falls back to the raw text rather than to nothing


def test_html_entities_of_a_copied_page_source_read_as_their_characters() -> None:
    post = read_post("&gt; NLLLoss expects log-probabilities\nI don&#39;t get it &amp; the docs "
                     "don&#39;t say. Why doesn&#39;t NLLLoss apply the log itself?")
    assert "NLLLoss expects" not in post.prose  # an escaped quote mark still marks a quote
    assert post.focus == "Why doesn't NLLLoss apply the log itself?"
    assert "&" in post.prose and "&amp;" not in post.prose


GITHUB_TEMPLATE_POST = """## Question

<!-- Before asking: have you searched the closed issues? Please describe your question below. -->

The training script divides the loss by math.log(2) before logging it. Why is that done? Does it
change the gradients?

- [x] I searched the docs?
- [x] I searched the issues.

#### What have you tried?
Read the criterion code.

#### What's your environment?
- Version: main
- OS: Linux
"""


def test_an_issue_template_asks_the_student_things_it_is_not_the_question() -> None:
    post = read_post(GITHUB_TEMPLATE_POST)
    # The template's own questions (headings, its HTML comment, a checklist item) are not the focus.
    assert post.focus == ("The training script divides the loss by math.log(2) before logging it. "
                          "Why is that done? Does it change the gradients?")
    assert [q for q in post.questions if "environment" in q or "tried" in q] == []
    for gone in ("Before asking", "closed issues", "I searched"):
        assert gone not in post.prose, gone
    # Headings still say what the post is about: their words stay in the prose, without the #s.
    assert "What have you tried?" in post.prose and "#" not in post.prose


def test_a_bold_line_is_a_heading_too() -> None:
    post = read_post("**Is your request related to a problem?**\nMy images are round and the corners are black.\n\n"
                     "**What have you tried?**\nI set the corners to 0. Is 0 a safe value for the CNN?\n\n"
                     "**Anything else?**\nversion 2.2")
    assert post.focus == "I set the corners to 0. Is 0 a safe value for the CNN?"
    assert read_post("**Why is KL not symmetric?**\nBoth directions gave different numbers.").focus == (
        "**Why is KL not symmetric?**")


def test_a_heading_is_the_question_when_the_body_asks_none() -> None:
    post = read_post("## Why is the KL divergence not symmetric?\n"
                     "I computed both directions for two Gaussians and got two different numbers.")
    assert post.focus == "Why is the KL divergence not symmetric?"
    # A comment of a pasted code block that starts with # is not a heading (it is gone with the block).
    code = read_post("```python\n# is this right?\nloss = nll(log_softmax(z), y)\n```\n"
                     "Is this the same as cross entropy?")
    assert code.focus == "Is this the same as cross entropy?"


def test_a_hard_wrapped_sentence_is_one_sentence() -> None:
    post = read_post("I visit the nodes of my autograd graph in breadth-first order from\nthe loss, and some "
                     "gradients come out\nwrong when a node is used twice. Should the backward pass use a\n"
                     "topological order instead?\n- OS: Linux\nThanks")
    assert post.focus == "Should the backward pass use a topological order instead?"
    assert post.questions == ("Should the backward pass use a topological order instead?",)
    # A new line that starts a list item, a capital or follows a finished sentence stays its own.
    listed = read_post("Two options:\n- one sigmoid output\n- two softmax outputs\nWhich is better for two classes?")
    assert listed.focus.endswith("Which is better for two classes?") and "\n" in prose_of(
        "Two options:\n- one sigmoid output\n- two softmax outputs")


def test_code_pasted_without_a_fence_stays_code_after_the_guard() -> None:
    from bot.answering.guard import clean_question

    text = ("My backward pass gives wrong gradients:\n\ndef backward(self):\n    for node in self.bfs_order():\n"
            "        node.grad_fn()\n        print(node.grad)\n\nIs BFS the wrong order to visit the nodes?")
    cleaned, _ = clean_question(text, 2000)
    post = read_post(cleaned)  # what the bot reads: the guard keeps indentation, so the body is still code
    assert post.prose == "My backward pass gives wrong gradients: Is BFS the wrong order to visit the nodes?"
    assert post.focus == "Is BFS the wrong order to visit the nodes?"


def test_an_email_reply_keeps_only_the_reply() -> None:
    post = read_post("On Tue, Oct 6, 2020 at 3:12 PM Jane Doe <jane@example.org> wrote:\n"
                     "> Adam keeps a running average of the squared gradients.\n\n"
                     "Thanks. Does that make Adam a second order method?")
    assert post.prose == "Thanks. Does that make Adam a second order method?"
    assert "wrote" not in post.prose
