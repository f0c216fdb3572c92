"""How the browser chat looks and moves: its CSS and the script that shows a new reply's start.

Kept apart from `web.py` so the handlers stay short. Colours come only from Gradio's theme variables,
so the light and the dark theme are both legible; the layout is written for a 360 px phone first.
Secondary text is the body colour at reduced opacity, not `--body-text-color-subdued`: that one
measured 1.8:1 against the light theme's background (tests/test_browser.py checks 4.5:1 in both,
counting every opacity on the way up, such as the 0.8 Gradio puts on chat messages, undone here).
"""

from __future__ import annotations

CSS = """
.tabot-status { min-height: 1.5em; }

/* A reply is a card: give it the chat's full width instead of its content's (Gradio keeps 60 px
   beside each bubble, a sixth of a phone). */
#chat .message-row.bot-row { max-width: 100%; margin-left: 6px; margin-right: 6px; }
#chat .message-row.bot-row .message { width: 100%; }
#chat .message-row.user-row { margin-left: 40px; margin-right: 6px; }
/* Gradio dims every chat message to 80 % opacity; answers are read on phones, in daylight. */
#chat .prose.chatbot.md { opacity: 1; }
/* Scrolled to the top of the view, a message must clear the chat's label. */
#chat [data-testid="user"], #chat [data-testid="bot"] { scroll-margin-top: 3em; }
/* Gradio's 32 px page margins are a sixth of a phone's width: 8 px below 600 px wide. (Gradio
   copies custom rules inside @media only under `.contain`, which the page margin is outside of.) */
.gradio-container .main.app { padding-left: clamp(8px, (100vw - 600px) * 100, 32px);
                              padding-right: clamp(8px, (100vw - 600px) * 100, 32px); }

/* The staff tab's "Why?" (bot.faces.web_staff): a terminal-style table, scrolled sideways on a phone. */
#staff-why-result pre.tabot-why { white-space: pre; overflow-x: auto; font-size: 0.85em; }

/* The user's message, exactly as typed (bot.faces.render.echo_html). */
#chat pre.tabot-echo {
  white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 0; border: 0;
  background: none; color: inherit; font: inherit;
}

#chat .tabot-label {
  margin: 0.9em 0 0.2em; font-size: 0.8em; letter-spacing: 0.03em; text-transform: uppercase;
  color: var(--body-text-color); opacity: 0.72;
}
#chat .tabot-muted { color: var(--body-text-color); opacity: 0.72; font-size: 0.9em; }
#chat details.tabot-source, #chat details.tabot-demo {
  border-top: 1px solid var(--border-color-primary); padding: 0.3em 0; margin: 0;
}
#chat details > summary { cursor: pointer; padding: 0.15em 0; }
#chat details > summary:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
#chat .tabot-fn { font-weight: 600; }
#chat .tabot-demo-body { padding: 0.3em 0 0.2em 0.2em; }
#chat .tabot-claims { margin: 0.2em 0; }

/* Numbers are never broken inside (the digit-by-digit wrapping of issue 15). */
#chat .n { white-space: nowrap; font-variant-numeric: tabular-nums; }

#chat table.tabot-table {
  display: table; width: auto; max-width: 100%; margin: 0.4em 0; border: 0; border-collapse: collapse;
  font-size: 0.9em; overflow: visible;
}
#chat .tabot-table tr { border: 0; background: none; }
#chat .tabot-table th, #chat .tabot-table td {
  padding: 0.2em 0.7em 0.2em 0; text-align: left; vertical-align: top;
  word-break: normal; overflow-wrap: normal; border: 0; border-bottom: 1px solid var(--border-color-primary);
  background: none; color: var(--body-text-color);
}
#chat .tabot-table th { font-weight: 600; }
/* Names may break anywhere (check names are long identifiers); values only between items. */
#chat .tabot-table td.tabot-name code { overflow-wrap: anywhere; white-space: normal; }
#chat .tabot-lbl { display: none; }
#chat details.tabot-vec { display: inline; }
#chat details.tabot-vec > summary { display: inline; }

/* Gradio sizes chat images to 30vw (117 px on a phone); a plot needs the card's width. */
#chat img.tabot-plot {
  display: block; width: 100%; max-width: 720px; max-height: none; height: auto; margin: 0.5em 0;
  background: #fff; border-radius: 4px;  /* the plots are drawn on white: keep them readable in dark mode */
}
#chat .tabot-run { margin: 0.5em 0 0.2em; }
#chat a.tabot-download { font-weight: 600; }

/* A phone: each table row stacks, the name above its values, each value labelled. */
@media (max-width: 600px) {
  #chat .tabot-table thead { display: none; }
  #chat table.tabot-table, #chat .tabot-table tbody, #chat .tabot-table tr { display: block; }
  #chat .tabot-table tr { padding: 0.25em 0; border-bottom: 1px solid var(--border-color-primary); }
  #chat .tabot-table td { display: inline-block; border: 0; padding: 0 0.9em 0 0; }
  #chat .tabot-table td.tabot-name { display: block; }
  #chat .tabot-lbl { display: inline; opacity: 0.72; }
}
"""

# Runs in the browser after a reply is in the chat history (`.then(js=...)`). Gradio's autoscroll is
# off: it would land on the last rows of the last demo. This waits until the newest reply has
# rendered, then scrolls the question just asked to the top of the view when it is short, else the
# reply itself, so the answer's first sentence is in view on a phone and a laptop alike.
SHOW_REPLY_JS = """
async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 100; i++) {
    const messages = document.querySelectorAll('#chat [data-testid="user"], #chat [data-testid="bot"]');
    const last = messages[messages.length - 1];
    // A reply already shown (marked below) is the previous turn's: wait for the new one, and the
    // question's echo (bot.faces.render.echo_html), to render.
    const users = document.querySelectorAll('#chat [data-testid="user"]');
    const question = users[users.length - 1];
    if (last && last.dataset.testid === 'bot' && !last.dataset.tabotShown && last.innerText.trim()
        && (!question || question.querySelector('pre.tabot-echo'))) {
      last.dataset.tabotShown = '1';
      const short = question && question.getBoundingClientRect().height < window.innerHeight / 5;
      (short ? question : last).scrollIntoView({ block: 'start' });
      return;
    }
    await sleep(50);
  }
}
"""
