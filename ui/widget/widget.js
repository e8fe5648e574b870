/*
 * Assistant documentaire of a local authority: embeddable chat widget.
 *
 * Embed with one line:
 *   <script src="https://…/widget/widget.js" data-api="https://…" defer></script>
 * data-api defaults to the script's own origin; data-history-turns may send fewer earlier
 * messages than the server reads. No cookies, no third-party requests: the only requests go
 * to the widget's own CSS and to the API. The server's limits (question length, history) and
 * the texts it shares with the widget come from GET /api/config, read once at start.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || document.getElementById("cua-widget")) {
    return;
  }

  var scriptUrl = new URL(script.src, window.location.href);

  var CONFIG = {
    api: (script.getAttribute("data-api") || scriptUrl.origin).replace(/\/+$/, ""),
    css: new URL("widget.css", scriptUrl).href,
    storageKey: "cua-assistant-conversation",
    historyTurns: script.getAttribute("data-history-turns"),
  };

  var TEXT = {
    launcher: "Poser une question",
    /* Until GET /api/config names the authority (its title and intro replace these). */
    title: "Assistant documentaire",
    intro:
      "Réponses tirées des documents publics, avec leurs sources. " +
      "N'écrivez pas d'informations personnelles (e-mail, téléphone, numéro fiscal).",
    close: "Fermer l'assistant",
    label: "Votre question",
    hint: "Entrée pour envoyer, Maj + Entrée pour aller à la ligne.",
    send: "Envoyer",
    reset: "Nouvelle question",
    you: "Vous",
    assistant: "Assistant",
    searching: "Recherche dans les documents…",
    drafting: "Rédaction de la réponse…",
    evidenceLead: "", // from the server (GET /api/config), as are busy and rateLimited
    busy: "",
    rateLimited: "",
    sources: "Extraits des documents",
    sourceWord: "source ",
    page: "p. ",
    useful: "Réponse utile",
    notUseful: "Réponse pas utile",
    thanks: "Merci pour votre avis.",
    feedbackError: "Votre avis n'a pas pu être envoyé.",
    missingQuestion: "Écrivez une question avant d'envoyer.",
    network: "Connexion au service impossible. Vérifiez votre connexion puis réessayez.",
    server: "Le service n'a pas pu répondre. Réessayez dans quelques instants.",
    refusedLabel: "Pas de réponse dans les documents",
    listen: "Écouter la réponse",
    speaking: "Lecture en cours",
    stopped: "Lecture arrêtée",
    empty: "Posez votre question ci-dessous. Par exemple : « Où trouver un conseiller numérique ? »",
  };

  /* The server's limits, once GET /api/config answered (null until then, or if it failed: the server checks anyway). */
  var state = { turns: loadTurns(), busy: false, speaking: null, limits: null };
  var ui = {};

  /* ---------- Storage (sessionStorage only: the conversation ends with the tab) ---------- */

  function loadTurns() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(CONFIG.storageKey) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (error) {
      return [];
    }
  }

  function saveTurns() {
    try {
      window.sessionStorage.setItem(CONFIG.storageKey, JSON.stringify(state.turns));
    } catch (error) {
      /* Storage full or disabled: the conversation simply won't survive a reload. */
    }
  }

  /* ---------- DOM helpers ---------- */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") {
        node.textContent = attrs[name];
      } else {
        node.setAttribute(name, attrs[name]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function injectCss() {
    document.head.appendChild(el("link", { rel: "stylesheet", href: CONFIG.css }));
  }

  function buildWidget() {
    ui.launcher = el("button", {
      type: "button",
      class: "cua-launcher",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": "cua-panel",
      text: TEXT.launcher,
    });
    ui.close = el("button", { type: "button", class: "cua-close", "aria-label": TEXT.close }, ["×"]);
    ui.title = el("h2", { id: "cua-title", class: "cua-title", text: TEXT.title });
    ui.intro = el("p", { class: "cua-intro", text: TEXT.intro });
    ui.log = el("div", { class: "cua-log" });
    ui.textarea = el("textarea", {
      id: "cua-question",
      name: "question",
      rows: "2",
      "aria-describedby": "cua-hint",
      autocomplete: "off",
    });
    ui.error = el("p", { class: "cua-error", role: "alert" });
    ui.announce = el("p", { class: "cua-sr-only", role: "status", "aria-live": "polite" });
    ui.send = el("button", { type: "submit", class: "cua-send", text: TEXT.send });
    ui.reset = el("button", { type: "button", class: "cua-reset", text: TEXT.reset });
    ui.form = el("form", { class: "cua-form", novalidate: "" }, [
      el("label", { for: "cua-question", class: "cua-label", text: TEXT.label }),
      ui.textarea,
      el("p", { id: "cua-hint", class: "cua-hint", text: TEXT.hint }),
      ui.error,
      el("div", { class: "cua-actions" }, [ui.reset, ui.send]),
    ]);
    ui.panel = el("div", { id: "cua-panel", class: "cua-panel", role: "dialog", "aria-labelledby": "cua-title" }, [
      el("div", { class: "cua-header" }, [ui.title, ui.close]),
      ui.intro,
      ui.log,
      ui.announce,
      ui.form,
    ]);
    ui.panel.hidden = true;
    ui.root = el("div", { id: "cua-widget", class: "cua-widget", lang: "fr" }, [ui.launcher, ui.panel]);
    document.body.appendChild(ui.root);
  }

  /* ---------- Opening and closing ---------- */

  function openPanel() {
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.root.classList.add("cua-open");
    ui.log.scrollTop = ui.log.scrollHeight;
    ui.textarea.focus();
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.root.classList.remove("cua-open");
    ui.launcher.focus();
  }

  function togglePanel() {
    if (ui.panel.hidden) {
      openPanel();
    } else {
      closePanel();
    }
  }

  /* ---------- Rendering answers ---------- */

  function locationLabel(source) {
    if (source.page !== null && source.page !== undefined) {
      return TEXT.page + source.page;
    }
    return source.section || "";
  }

  function sourceId(turnIndex, sourceNumber) {
    return "cua-src-" + turnIndex + "-" + sourceNumber;
  }

  function findSource(sources, number) {
    for (var i = 0; i < sources.length; i += 1) {
      if (sources[i].id === number) {
        return sources[i];
      }
    }
    return null;
  }

  function showSource(targetId) {
    var quote = document.getElementById(targetId);
    if (!quote) {
      return;
    }
    quote.focus();
    quote.scrollIntoView({ block: "nearest" });
  }

  function referenceLink(turnIndex, number) {
    var targetId = sourceId(turnIndex, number);
    var link = el("a", { href: "#" + targetId, class: "cua-ref" }, [
      "[",
      el("span", { class: "cua-sr-only", text: TEXT.sourceWord }),
      String(number),
      "]",
    ]);
    link.addEventListener("click", function (event) {
      event.preventDefault();
      showSource(targetId);
    });
    return link;
  }

  /* A text with its [n] markers turned into links to the matching quote. */
  function linkedText(text, quotes, turnIndex) {
    var nodes = [];
    text.split(/(\[\d+\])/).forEach(function (part) {
      var marker = /^\[(\d+)\]$/.exec(part);
      var number = marker ? Number(marker[1]) : null;
      if (number !== null && findSource(quotes, number)) {
        nodes.push(referenceLink(turnIndex, number));
      } else if (part) {
        nodes.push(document.createTextNode(part));
      }
    });
    return nodes;
  }

  /* The checked model sentences, each followed by its [n] markers. */
  function sentencesText(sentences) {
    return sentences
      .map(function (sentence) {
        var markers = sentence.citations
          .map(function (n) {
            return "[" + n + "]";
          })
          .join("");
        return sentence.text.replace(/[ .]+$/, "") + " " + markers + ".";
      })
      .join(" ");
  }

  function sentencesParagraph(sentences, quotes, turnIndex) {
    return el("p", { class: "cua-answer-text" }, linkedText(sentencesText(sentences), quotes, turnIndex));
  }

  function quoteItem(quote, turnIndex) {
    var where = locationLabel(quote);
    return el("li", { id: sourceId(turnIndex, quote.id), class: "cua-quote", tabindex: "-1" }, [
      el("blockquote", { class: "cua-excerpt", text: "« " + quote.text + " »" }),
      el("p", { class: "cua-quote-source" }, [
        el("span", { class: "cua-quote-number", text: "[" + quote.id + "] " }),
        quote.title + (where ? " — " + where : ""),
      ]),
    ]);
  }

  function quoteList(quotes, turnIndex) {
    var headingId = "cua-sources-" + turnIndex;
    return el("div", { class: "cua-sources" }, [
      el("h3", { id: headingId, class: "cua-sources-title", text: TEXT.sources }),
      el(
        "ol",
        { "aria-labelledby": headingId, class: "cua-quotes" },
        quotes.map(function (quote) {
          return quoteItem(quote, turnIndex);
        }),
      ),
    ]);
  }

  /* ---------- Read-aloud (speechSynthesis: in the browser, nothing is sent anywhere) ---------- */

  function canSpeak() {
    return Boolean(window.speechSynthesis && window.SpeechSynthesisUtterance);
  }

  function announce(message) {
    ui.announce.textContent = message;
  }

  function frenchVoice() {
    var voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i += 1) {
      if (/^fr\b/i.test(voices[i].lang || "")) {
        return voices[i];
      }
    }
    return null;
  }

  /* What is read: the answer and the quotes, without the [n] markers. */
  function spokenText(turn) {
    return turn.answer.replace(/\s*\[\d+\]/g, "");
  }

  function stopSpeaking(message) {
    if (!canSpeak()) {
      return;
    }
    window.speechSynthesis.cancel();
    if (state.speaking) {
      state.speaking.setAttribute("aria-pressed", "false");
      state.speaking = null;
      if (message) {
        announce(message);
      }
    }
  }

  function speak(turn, button) {
    stopSpeaking("");
    var utterance = new window.SpeechSynthesisUtterance(spokenText(turn));
    utterance.lang = "fr-FR";
    var voice = frenchVoice();
    if (voice) {
      utterance.voice = voice;
    }
    utterance.onend = function () {
      if (state.speaking === button) {
        stopSpeaking(TEXT.stopped);
      }
    };
    state.speaking = button;
    button.setAttribute("aria-pressed", "true");
    announce(TEXT.speaking);
    window.speechSynthesis.speak(utterance);
  }

  function listenButton(turn) {
    var button = el("button", { type: "button", class: "cua-listen", "aria-label": TEXT.listen, "aria-pressed": "false" }, [
      el("span", { "aria-hidden": "true", text: "🔊 " }),
      TEXT.listen,
    ]);
    button.addEventListener("click", function () {
      if (button.getAttribute("aria-pressed") === "true") {
        stopSpeaking(TEXT.stopped);
      } else {
        speak(turn, button);
      }
    });
    return button;
  }

  function feedbackButtons(turn, turnIndex) {
    var status = el("p", { class: "cua-feedback-status", role: "status" });
    var up = el("button", { type: "button", class: "cua-thumb", "aria-label": TEXT.useful, title: TEXT.useful }, ["👍"]);
    var down = el("button", { type: "button", class: "cua-thumb", "aria-label": TEXT.notUseful, title: TEXT.notUseful }, [
      "👎",
    ]);
    function choose(rating) {
      up.disabled = true;
      down.disabled = true;
      (rating === "up" ? up : down).setAttribute("aria-pressed", "true");
      sendFeedback(turn, rating).then(
        function () {
          turn.feedback = rating;
          state.turns[turnIndex] = turn;
          saveTurns();
          status.textContent = TEXT.thanks;
        },
        function (failure) {
          up.disabled = false;
          down.disabled = false;
          status.textContent = (failure && failure.refusal) || TEXT.feedbackError;
        },
      );
    }
    up.addEventListener("click", function () {
      choose("up");
    });
    down.addEventListener("click", function () {
      choose("down");
    });
    if (turn.feedback) {
      up.disabled = true;
      down.disabled = true;
      (turn.feedback === "up" ? up : down).setAttribute("aria-pressed", "true");
      status.textContent = TEXT.thanks;
    }
    return el("div", { class: "cua-feedback" }, [up, down, status]);
  }

  /* A turn saved before the evidence-first answers has only answer/refused/sources. */
  function outcomeOf(turn) {
    return turn.outcome || (turn.refused ? "refuse" : "answer");
  }

  function answerBody(turn, turnIndex) {
    var outcome = outcomeOf(turn);
    var quotes = turn.evidence || [];
    if (outcome === "refuse") {
      return [
        el("p", { class: "cua-refused-label", text: TEXT.refusedLabel }),
        el("p", { class: "cua-answer-text", text: turn.answer }),
      ];
    }
    if (outcome === "evidence_only") {
      var lead = TEXT.evidenceLead ? [el("p", { class: "cua-evidence-lead", text: TEXT.evidenceLead })] : [];
      return lead.concat([quoteList(quotes, turnIndex)], casesNote(turn.cases));
    }
    if (!turn.sentences) {
      return [el("p", { class: "cua-answer-text", text: turn.answer })];
    }
    return [sentencesParagraph(turn.sentences, quotes, turnIndex), quoteList(quotes, turnIndex)].concat(
      casesNote(turn.cases)
    );
  }

  /* A démarches page's cases when the question named none: which one the answer is for, and the others. */
  function casesNote(cases) {
    if (!cases || cases.length < 2) {
      return [];
    }
    var others = cases.slice(1).map(function (name) {
      return "« " + name + " »";
    });
    return [
      el("p", {
        class: "cua-cases",
        text:
          "Cette réponse vaut pour le cas « " + cases[0] + " ». La démarche change selon votre situation (" +
          others.join(" ; ") + ") : précisez la vôtre si ce n'est pas celle-ci.",
      }),
    ];
  }

  function finalAnswer(turn, turnIndex) {
    var outcome = outcomeOf(turn);
    var tools = canSpeak() ? [listenButton(turn)] : [];
    tools.push(feedbackButtons(turn, turnIndex));
    var children = [
      el("div", { class: "cua-answer-body" }, answerBody(turn, turnIndex)),
      el("div", { class: "cua-tools" }, tools),
    ];
    var attrs = { class: "cua-answer cua-outcome-" + outcome.replace("_", "-") };
    if (outcome === "refuse") {
      attrs.class += " cua-refusal";
      attrs.role = "status";
    }
    return el("div", attrs, children);
  }

  function questionBubble(question) {
    return el("div", { class: "cua-question" }, [
      el("p", { class: "cua-speaker", text: TEXT.you }),
      el("p", { class: "cua-question-text", text: question }),
    ]);
  }

  function assistantLabel() {
    return el("p", { class: "cua-speaker cua-speaker-assistant", text: TEXT.assistant });
  }

  function turnNode(turn, turnIndex) {
    return el("div", { class: "cua-turn" }, [
      questionBubble(turn.question),
      assistantLabel(),
      finalAnswer(turn, turnIndex),
    ]);
  }

  function renderConversation() {
    ui.log.textContent = "";
    if (!state.turns.length) {
      ui.log.appendChild(el("p", { class: "cua-empty", text: TEXT.empty }));
    }
    state.turns.forEach(function (turn, index) {
      ui.log.appendChild(turnNode(turn, index));
    });
  }

  /* Scrolls the log (or, on short screens, the whole panel) to the start of a turn. */
  function revealTurn(node) {
    ui.log.scrollTop = node.offsetTop - ui.log.offsetTop;
    ui.panel.scrollTop = node.offsetTop;
  }

  /* ---------- Errors and busy state ---------- */

  /* An error whose message is written for residents (others get a generic message). */
  function userError(message) {
    var error = new Error(message);
    error.userMessage = message;
    return error;
  }

  function showError(message) {
    ui.error.textContent = message;
  }

  function setBusy(busy) {
    state.busy = busy;
    ui.send.disabled = busy;
    ui.reset.disabled = busy;
    ui.form.setAttribute("aria-busy", String(busy));
  }

  /* ---------- Server-Sent Events over fetch (POST, so not EventSource) ---------- */

  function parseEvent(block) {
    var event = { type: "message", data: [] };
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") {
        return;
      }
      var colon = line.indexOf(":");
      var field = colon === -1 ? line : line.slice(0, colon);
      var value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") {
        event.type = value;
      } else if (field === "data") {
        event.data.push(value);
      }
    });
    return event.data.length ? { type: event.type, data: event.data.join("\n") } : null;
  }

  /* Reads the response body and calls onEvent(type, parsedJson) for each complete event. */
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder("utf-8");
    var buffer = "";

    function drain(final) {
      var text = buffer;
      var held = "";
      if (!final && text.slice(-1) === "\r") {
        held = "\r";
        text = text.slice(0, -1);
      }
      var blocks = text.replace(/\r\n?/g, "\n").split("\n\n");
      buffer = (final ? "" : blocks.pop()) + held;
      blocks.forEach(function (block) {
        var event = parseEvent(block);
        if (event) {
          onEvent(event.type, JSON.parse(event.data));
        }
      });
    }

    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          buffer += decoder.decode();
          drain(true);
          return undefined;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        drain(false);
        return pump();
      });
    }

    return pump();
  }

  /* The server's French message, or ours when the body is not the API's (a proxy's error page). */
  function errorMessage(response) {
    var fallback = TEXT.server;
    if (response.status === 503 && TEXT.busy) {
      fallback = TEXT.busy;
    } else if (response.status === 429 && TEXT.rateLimited) {
      fallback = TEXT.rateLimited;
    }
    return response
      .json()
      .then(function (body) {
        return typeof body.detail === "string" ? body.detail : fallback;
      })
      .catch(function () {
        return fallback;
      });
  }

  /* ---------- The server's limits and texts ---------- */

  function applyServerConfig(config) {
    state.limits = {
      questionChars: config.max_question_chars,
      historyTurns: config.max_history_turns,
      turnChars: config.max_turn_chars,
      feedbackQuestionChars: config.max_feedback_question_chars,
      feedbackAnswerChars: config.max_feedback_answer_chars,
    };
    TEXT.title = config.title || TEXT.title;
    TEXT.intro = config.intro || TEXT.intro;
    ui.title.textContent = TEXT.title;
    ui.intro.textContent = TEXT.intro;
    TEXT.evidenceLead = config.evidence_lead;
    TEXT.busy = config.busy_message;
    TEXT.rateLimited = config.rate_limited_message;
    ui.textarea.setAttribute("maxlength", String(state.limits.questionChars));
    if (state.turns.length && !state.busy) {
      renderConversation();
    }
  }

  function loadServerConfig() {
    return fetch(CONFIG.api + "/api/config", { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(applyServerConfig, function () {
        /* Unreachable for now: questions are sent unlimited, the server refuses what it must. */
      });
  }

  /* At most `limit` characters; all of them while the server's limits are unknown. */
  function clip(text, limit) {
    return limit ? text.slice(0, limit) : text;
  }

  function postJson(path, body) {
    return fetch(CONFIG.api + path, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify(body),
    });
  }

  function sendFeedback(turn, rating) {
    var limits = state.limits || {};
    return postJson("/api/feedback", {
      question: clip(turn.question, limits.feedbackQuestionChars),
      answer: clip(turn.answer, limits.feedbackAnswerChars),
      rating: rating,
      origin: "widget",
    }).then(function (response) {
      if (!response.ok) {
        /* The server's reason (« réessayez dans quelques minutes » while its database is down) */
        return errorMessage(response).then(function (message) {
          throw { refusal: message };
        });
      }
    });
  }

  /* ---------- Asking ---------- */

  /* The earlier messages the server reads (fewer if the page asks for fewer with data-history-turns). */
  function conversationHistory() {
    var limits = state.limits || {};
    var count = limits.historyTurns;
    if (CONFIG.historyTurns !== null) {
      count = count === undefined ? Number(CONFIG.historyTurns) : Math.min(count, Number(CONFIG.historyTurns));
    }
    var turns = [];
    state.turns.forEach(function (turn) {
      turns.push({ role: "user", content: clip(turn.question, limits.turnChars) });
      turns.push({ role: "assistant", content: clip(turn.answer, limits.turnChars) });
    });
    if (count === undefined) {
      return turns;
    }
    return count > 0 ? turns.slice(-count) : [];
  }

  /*
   * The live region shows the quotes as soon as the evidence event arrives, with a status
   * while the model writes, then each of the model's sentences once verification kept it (the
   * `sentence` events; the unverified `token` events are never drawn); the final checked answer
   * then replaces the whole region.
   */
  function pendingTurn(question) {
    var status = el("p", { class: "cua-status", text: TEXT.searching });
    var text = el("p", { class: "cua-answer cua-streaming" });
    var quotes = el("div", { class: "cua-pending-quotes" });
    var live = el("div", { class: "cua-live", "aria-live": "polite", "aria-busy": "true" }, [status, text, quotes]);
    var node = el("div", { class: "cua-turn" }, [questionBubble(question), assistantLabel(), live]);
    if (!state.turns.length) {
      ui.log.textContent = "";
    }
    ui.log.appendChild(node);
    revealTurn(node);
    return {
      node: node,
      live: live,
      status: status,
      text: text,
      quotes: quotes,
      evidence: [],
      sentences: [],
      finished: false,
    };
  }

  function finishTurn(pending, question, response) {
    var turn = {
      question: question,
      answer: response.answer,
      refused: response.outcome === "refuse",
      outcome: response.outcome,
      sentences: response.answer_sentences || [],
      evidence: response.evidence || [],
      cases: response.cases || [],
      feedback: null,
    };
    var index = state.turns.length;
    state.turns.push(turn);
    saveTurns();
    pending.live.textContent = "";
    pending.live.appendChild(finalAnswer(turn, index));
    pending.live.setAttribute("aria-busy", "false");
    pending.finished = true;
    revealTurn(pending.node);
  }

  function handleStreamEvent(pending, question, type, data) {
    if (type === "evidence") {
      pending.status.textContent = TEXT.drafting;
      if (data.evidence && data.evidence.length) {
        pending.evidence = data.evidence;
        pending.quotes.appendChild(quoteList(data.evidence, "pending"));
      }
    } else if (type === "sentence") {
      pending.sentences.push(data);
      pending.text.textContent = "";
      linkedText(sentencesText(pending.sentences), pending.evidence, "pending").forEach(function (node) {
        pending.text.appendChild(node);
      });
    } else if (type === "done") {
      finishTurn(pending, question, data);
    } else if (type === "error") {
      throw userError(data.message || TEXT.server);
    }
  }

  function ask(question) {
    stopSpeaking("");
    var pending = pendingTurn(question);
    setBusy(true);
    showError("");
    ui.textarea.value = "";
    return state.serverReady
      .then(function () {
        return postJson("/api/ask/stream", { question: question, history: conversationHistory() });
      })
      .then(
        function (response) {
          if (!response.ok) {
            return errorMessage(response).then(function (message) {
              throw userError(message);
            });
          }
          return readEvents(response, function (type, data) {
            handleStreamEvent(pending, question, type, data);
          });
        },
        function () {
          throw userError(TEXT.network);
        },
      )
      .then(function () {
        if (!pending.finished) {
          throw userError(TEXT.server);
        }
      })
      .catch(function (error) {
        if (!pending.finished) {
          renderConversation();
        }
        if (!ui.textarea.value) {
          ui.textarea.value = question;
        }
        showError(error.userMessage || (error instanceof TypeError ? TEXT.network : TEXT.server));
      })
      .then(function () {
        setBusy(false);
      });
  }

  function submitQuestion() {
    if (state.busy) {
      return;
    }
    var question = ui.textarea.value.trim();
    if (!question) {
      showError(TEXT.missingQuestion);
      ui.textarea.focus();
      return;
    }
    ask(question);
  }

  function resetConversation() {
    stopSpeaking("");
    state.turns = [];
    saveTurns();
    renderConversation();
    showError("");
    ui.textarea.value = "";
    ui.textarea.focus();
  }

  /* ---------- Wiring ---------- */

  function bindEvents() {
    ui.launcher.addEventListener("click", togglePanel);
    ui.close.addEventListener("click", closePanel);
    ui.reset.addEventListener("click", resetConversation);
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitQuestion();
    });
    ui.textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submitQuestion();
      }
    });
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closePanel();
      }
    });
  }

  injectCss();
  buildWidget();
  bindEvents();
  renderConversation();
  state.serverReady = loadServerConfig();
})();
