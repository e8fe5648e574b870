// Staff page: corpus documents, re-index with its estimated duration and progress, question analytics.
// The admin token is kept in sessionStorage (this tab only) and sent as a Bearer header.
"use strict";

(function () {
  const TOKEN_KEY = "cuabot-admin-token";
  const POLL_MS = 500;
  const STATUS_LABELS = { indexed: "Indexé", pending: "À indexer", removed: "Retiré à la prochaine indexation" };
  const OUTCOME_RATES = [["refusal_rate", "Taux de refus"], ["evidence_only_rate", "Taux d'extraits seuls"]];
  const $ = (id) => document.getElementById(id);
  let replacing = null;

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  function say(message) { $("status").textContent = message; }

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: "Bearer " + token() }, options.headers || {});
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (response.status === 401 || response.status === 403) {
      const detail = await errorText(response);
      logout(detail);
      throw new Error(detail);
    }
    if (!response.ok) throw new Error(await errorText(response));
    return response;
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return typeof body.detail === "string" ? body.detail : "Requête refusée (" + response.status + ").";
    } catch (_) {
      return "Erreur " + response.status + ".";
    }
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? "—" : String(text);
    row.appendChild(td);
    return td;
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function frenchDate(iso) {
    return iso ? new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" }) : "";
  }

  async function loadDocuments() {
    const docs = await (await api("/api/admin/documents")).json();
    const body = $("documents").querySelector("tbody");
    body.replaceChildren();
    for (const doc of docs) {
      const row = document.createElement("tr");
      row.dataset.document = doc.document;
      const title = cell(row, doc.title); cell(row, doc.publisher); cell(row, doc.date); cell(row, doc.pages);
      if (doc.ignored_instructions && doc.ignored_instructions.length) title.appendChild(ignoredList(doc));
      cell(row, doc.passages); cell(row, frenchDate(doc.indexed_at)); cell(row, STATUS_LABELS[doc.status]);
      const actions = cell(row, "");
      actions.textContent = "";
      if (doc.status !== "removed") {
        actions.appendChild(button("Remplacer", () => { replacing = doc; $("replace-file").click(); }));
        actions.appendChild(button("Retirer", () => removeDocument(doc)));
        actions.firstChild.setAttribute("aria-label", "Remplacer « " + doc.title + " »");
        actions.lastChild.setAttribute("aria-label", "Retirer « " + doc.title + " »");
      }
      body.appendChild(row);
    }
  }

  // Sentences the index left out for speaking to the assistant (indirect prompt injection), with where they are
  function ignoredList(doc) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const n = doc.ignored_instructions.length;
    summary.textContent = n + (n > 1 ? " instructions ignorées" : " instruction ignorée");
    const list = document.createElement("ul");
    for (const item of doc.ignored_instructions) {
      const li = document.createElement("li");
      const place = [item.page ? "p. " + item.page : "", item.section ? "section « " + item.section + " »" : ""];
      const where = place.filter(Boolean).join(", ");
      li.textContent = "« " + item.text + " »" + (where ? " (" + where + ")" : "");
      list.appendChild(li);
    }
    details.append(summary, list);
    return details;
  }

  function ignoredText(doc) {
    const n = (doc.ignored_instructions || []).length;
    if (!n) return "";
    return " " + n + (n > 1 ? " phrases s'adressent" : " phrase s'adresse") +
      " à l'assistant et ne seront pas indexées.";
  }

  async function removeDocument(doc) {
    if (!window.confirm("Retirer « " + doc.title + " » du corpus ?")) return;
    await run(async () => {
      await api("/api/admin/documents/" + encodeURIComponent(doc.document), { method: "DELETE" });
      say("« " + doc.title + " » retiré : lancez l'indexation pour l'appliquer.");
      await loadDocuments();
    });
  }

  async function replaceDocument() {
    const file = $("replace-file").files[0];
    if (!file || !replacing) return;
    const form = new FormData();
    form.append("file", file);
    await run(async () => {
      const path = "/api/admin/documents/" + encodeURIComponent(replacing.document);
      const doc = await (await api(path, { method: "PUT", body: form })).json();
      say("« " + replacing.title + " » remplacé." + ignoredText(doc) + estimateText(doc) + " Lancez l'indexation pour l'appliquer.");
      await loadDocuments();
    });
    $("replace-file").value = "";
  }

  async function addDocument(event) {
    event.preventDefault();
    const form = new FormData($("add-form"));
    await run(async () => {
      const doc = await (await api("/api/admin/documents", { method: "POST", body: form })).json();
      $("add-form").reset();
      say("« " + doc.title + " » ajouté." + ignoredText(doc) + estimateText(doc) + " Lancez l'indexation pour le rendre interrogeable.");
      await loadDocuments();
    });
  }

  function estimateText(doc) { return doc.estimate ? " " + doc.estimate.message : ""; }

  // Files read while reading, then the passages analysed and embedded (the longest phase)
  function progressPercent(status) {
    const byFiles = status.phase === "reading" || !status.passages_total;
    const [done, total] = byFiles ? [status.done, status.total] : [status.passages_done, status.passages_total];
    return total ? Math.round((100 * done) / total) : 0;
  }

  function showProgress(status) {
    const percent = progressPercent(status);
    $("progress-box").hidden = false;
    $("progress").setAttribute("aria-valuenow", String(percent));
    $("progress").setAttribute("aria-valuetext", percent + " %");
    $("progress-fill").style.width = percent + "%";
    const text = status.progress_text || "Indexation";
    if ($("progress-label").textContent !== text) $("progress-label").textContent = text;  // announced once
  }

  function list(title, items) {
    if (!items.length) return null;
    const block = document.createElement("div");
    const heading = document.createElement("h3");
    heading.textContent = title + " (" + items.length + ")";
    const ul = document.createElement("ul");
    for (const item of items) {
      const li = document.createElement("li");
      li.textContent = item;
      ul.appendChild(li);
    }
    block.append(heading, ul);
    return block;
  }

  function showReport(status) {
    const box = $("report");
    box.replaceChildren();
    if (status.state === "failed") {
      const p = document.createElement("p");
      p.className = "error";
      p.textContent = status.error;
      box.appendChild(p);
      return;
    }
    const r = status.report;
    if (!r) return;
    const summary = document.createElement("p");
    const computed = r.embedded_passages + (r.embedded_passages > 1 ? " passages calculés" : " passage calculé");
    const reused = r.reused_passages ? " (" + r.reused_passages + (r.reused_passages > 1 ? " autres" : " autre") +
      " repris de l'index, même texte)" : "";
    summary.textContent = "Indexation terminée en " + r.seconds.toLocaleString("fr-FR") + " s : " + r.passages +
      " passages au total, " + computed + reused + " ; " + r.unchanged + " document(s) inchangé(s).";
    box.appendChild(summary);
    const parts = [
      list("Ajoutés", r.added), list("Mis à jour", r.updated), list("Retirés", r.removed),
      list("Ignorés", r.skipped.map((s) => s.file + " : " + s.reason)),
      list("Texte illisible", r.garbled.map((g) => g.file + " : " + Math.round(g.share * 100) + " % de mots collés")),
    ];
    parts.filter(Boolean).forEach((p) => box.appendChild(p));
  }

  async function pollReindex() {
    const status = await (await api("/api/admin/reindex")).json();
    if (status.state === "running") {
      showProgress(status);
      window.setTimeout(() => pollReindex().catch((e) => say(e.message)), POLL_MS);
      return;
    }
    $("reindex").disabled = false;
    if (status.state === "idle") return;
    showProgress(status);
    showReport(status);
    say(status.state === "done" ? "Indexation terminée." : "L'indexation a échoué.");
    await loadDocuments();
  }

  // A long indexing (past CUABOT_REINDEX_CONFIRM_ABOVE_S) is said, and confirmed, before it starts
  async function confirmLongIndexing() {
    const estimate = await (await api("/api/admin/reindex/estimate")).json();
    return !estimate.long || window.confirm(estimate.message + "\n\nLancer l'indexation maintenant ?");
  }

  async function startReindex() {
    await run(async () => {
      $("reindex").disabled = true;
      try {
        if (!(await confirmLongIndexing())) {
          $("reindex").disabled = false;
          say("Indexation non lancée : les documents restent à indexer.");
          return;
        }
        $("report").replaceChildren();
        showProgress(await (await api("/api/admin/reindex", { method: "POST" })).json());
      } catch (error) {
        $("reindex").disabled = false;
        throw error;
      }
      say("Indexation lancée.");
      await pollReindex();
    });
  }

  function percent(value) { return (value * 100).toLocaleString("fr-FR", { maximumFractionDigits: 1 }) + " %"; }

  function seconds(value) { return value === null ? "—" : value.toLocaleString("fr-FR") + " s"; }

  async function loadAnalytics() {
    const a = await (await api("/api/admin/analytics")).json();
    const box = $("analytics");
    box.replaceChildren();
    const intro = document.createElement("p");
    intro.textContent = a.enabled
      ? a.questions + " question(s) sur les " + a.retention_days + " derniers jours (sujets masqués, aucune question conservée)."
      : "Statistiques désactivées (CUABOT_PRIVACY__ANALYTICS_ENABLED=false) : aucune question n'est comptée.";
    box.appendChild(intro);
    if (!a.questions) return;
    const figures = [["Latence médiane", seconds(a.latency_p50_s)], ["Latence p95", seconds(a.latency_p95_s)]];
    figures.unshift(...OUTCOME_RATES.map(([key, label]) => [label, percent(a[key])]));
    const dl = document.createElement("dl");
    for (const [label, value] of figures) {
      const dt = document.createElement("dt"); dt.textContent = label;
      const dd = document.createElement("dd"); dd.textContent = value;
      dl.append(dt, dd);
    }
    box.appendChild(dl);
    const days = list("Questions par jour", a.per_day.map((d) => d.day + " : " + d.questions));
    const topics = list("Sujets sans réponse les plus fréquents", a.unanswered_topics.map((t) => t.topic + " : " + t.questions));
    [days, topics].filter(Boolean).forEach((p) => box.appendChild(p));
  }

  async function downloadCsv() {
    await run(async () => {
      const blob = await (await api("/api/admin/analytics.csv")).blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "questions.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    });
  }

  async function run(action) {
    try {
      await action();
    } catch (error) {
      say(error.message);
    }
  }

  async function showStaff() {
    await Promise.all([loadDocuments(), loadAnalytics(), pollReindex()]);
    $("login").hidden = true;
    $("staff").hidden = false;
    $("logout").hidden = false;
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("staff").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
  }

  async function login(event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    $("login-error").textContent = "";
    try {
      await showStaff();
      say("Connecté.");
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", () => logout(""));
    $("add-form").addEventListener("submit", addDocument);
    $("replace-file").addEventListener("change", replaceDocument);
    $("reindex").addEventListener("click", startReindex);
    $("analytics-csv").addEventListener("click", downloadCsv);
    if (token()) showStaff().catch((e) => logout(e.message));
  });
})();
