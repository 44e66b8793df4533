// Every text of the analysts' page, in Dutch (the page's language) and English (?lang=en).
// Elements name their text with data-t (textContent), data-t-placeholder, data-t-title or
// data-t-aria; scripts call wijkradarTexts.t(key, {name: value}). Data texts (driver
// sentences, bands, context lines, feature labels) come from the API in the same language.
var wijkradarTexts = (function () {
  "use strict";
  var TEXTS = {
    nl: {
      title: "wijkradar",
      lede: "Voorspelde kans op een daling van de Leefbarometer-score per gebied, met de " +
        "factoren die elke kans verklaren.",
      as_of: "Peiljaar", other_lang: "English", other_lang_title: "Show this page in English",
      tab_ranking: "Ranglijst", tab_map: "Kaart", tab_model: "Model",
      loading: "Laden\u2026", empty: "Geen gebieden gevonden voor dit filter.",
      error: "Er ging iets mis: {message}",
      ranking: "Ranglijst",
      ranking_note: "Rang 1 is de hoogste kans landelijk. \u0394 rang is de verandering sinds de " +
        "vorige publicatie van hetzelfde peiljaar (positief: gestegen naar rang 1). De " +
        "belangrijkste factoren zijn de kenmerken die de kans het meest verhogen.",
      bands: "Risicoklassen",
      gemeente: "Gemeente", all: "alle gemeenten", search: "Zoeken",
      search_placeholder: "code of naam", download_csv: "Download CSV",
      download_xlsx: "Download Excel",
      col_rank: "rang", col_rank_change: "\u0394 rang", col_unit_name: "gebied",
      col_gemeente_name: "gemeente", col_risk: "kans", col_relative: "t.o.v. gemiddeld",
      col_band: "klasse", col_rank_in_gemeente: "rang in gemeente",
      col_top_drivers: "belangrijkste factoren",
      prev: "\u2190 vorige", next: "volgende \u2192",
      page_info: "{from}\u2013{to} van {total} gebieden{all} \u00b7 pagina {page}/{pages}",
      page_all: " (van {n})", page_none: "0 gebieden",
      new_top10: "nieuw in top 10%", new_top10_title: "nieuw in de top 10% sinds de vorige run",
      change_new: "nieuw",
      map: "Kaart", map_colour: "Kleur naar", colour_band: "risicoklasse",
      colour_lbm: "Leefbarometer-score", colour_change: "laatste verandering Leefbarometer",
      map_note: "Gemeentegrenzen en -namen uit de eigen grenzen van de werkruimte. Scroll of " +
        "knijp om te zoomen, sleep om te schuiven; klik op een gebied voor de toelichting.",
      map_missing: "Deze werkruimte heeft geen grenzen (boundaries/units.geojson), dus geen kaart.",
      zoom_in: "Inzoomen", zoom_out: "Uitzoomen", zoom_reset: "Hele kaart",
      no_value: "geen waarde", risk: "kans", band: "klasse", top_driver: "grootste factor",
      lbm: "Leefbarometer", change: "verandering",
      lbm_lowest: "laagste 20%", lbm_low: "20\u201340%", lbm_mid: "40\u201360%",
      lbm_high: "60\u201380%", lbm_highest: "hoogste 20%",
      chg_down_big: "daling \u2265 {delta}", chg_down: "lichte daling", chg_same: "gelijk",
      chg_up: "lichte stijging", chg_up_big: "stijging \u2265 {delta}",
      back: "\u2190 terug naar de ranglijst", print: "Print factsheet",
      fact_sheet: "Factsheet", risk_label: "kans", relative_label: "t.o.v. het gemiddelde",
      band_label: "risicoklasse", rank_label: "rang", rank_gemeente_label: "rang in gemeente",
      change_label: "sinds de vorige run", run_label: "run",
      rank_of: "{rank} van {n}", top10: " (top 10%)", no_gemeente: "geen gemeente bekend",
      no_previous: "geen vorige rang", rank_moved: "rang {from} \u2192 {to}",
      new_in_top10: ", nieuw in de top 10%",
      panel_warning: "Het panel is herbouwd nadat deze run is berekend: waarden en medianen " +
        "komen uit het nieuwere panel.",
      drivers_words: "Wat de kans verklaart", top_drivers: "Grootste factoren",
      by_domain: "Factoren per beleidsdomein", raises: "verhoogt de kans",
      lowers: "verlaagt de kans",
      waterfall_caption: "Van de basiswaarde (log-odds) naar de log-odds van dit gebied: de " +
        "bijdrage van elk kenmerk, grootste eerst; rood verhoogt de kans, blauw verlaagt haar.",
      features: "Kenmerken naast de medianen", feature: "kenmerk", value: "waarde",
      gemeente_median: "gemeente (mediaan)", national_median: "Nederland (mediaan)",
      contribution: "bijdrage",
      context: "Context (niet in het model)",
      context_note: "Bronnen die alleen recente jaren beslaan: het profiel van dit gebied " +
        "naast de mediaan van de gemeente en van Nederland. Het model gebruikt ze niet, omdat " +
        "de jaren waarop het getraind is ze niet hebben.",
      lbm_history: "Leefbarometer-score en dimensies door de tijd",
      risk_history: "Kans in elke gepubliceerde run",
      lbm_caption: "Leefbarometer: de laatste meting op of voor elk peiljaar; dunne lijnen: " +
        "de dimensies.",
      risk_caption: "Grijze punten: eerdere runs van een jaar.",
      chart_none: "Geen gegevens voor deze grafiek.",
      compare: "Dit gebied naast gemeente, vergelijkbare gebieden en Nederland",
      compare_measure: "maat", compare_unit: "dit gebied", compare_gemeente: "gemeente",
      compare_peers: "10 vergelijkbare", compare_national: "Nederland",
      peers: "De tien gebieden met het meest gelijke profiel",
      peer_name: "gebied", freshness: "Actualiteit van de gegevens",
      model: "Model", model_version: "model van deze ranglijst", model_run: "trainingsrun",
      model_created: "geregistreerd", quality: "Kwaliteit in gewone woorden",
      quality_line: "{text} (toetsjaar {year}).",
      validation: "Validatie",
      validation_note: "Temporele validatie: elk toetsjaar wordt voorspeld door een model dat " +
        "alleen op eerdere jaren is getraind. LightGBM naast eenvoudige regels; precisie en " +
        "recall in de top 10.",
      pr_caption: "Precisie-recall op het laatste toetsjaar van het model van dit peiljaar; " +
        "gestreept: het basisniveau.",
      shap_caption: "SHAP-samenvatting van de belangrijkste kenmerken, alle gebieden van dit " +
        "jaar.",
      model_card: "Modelkaart", no_card: "Bij dit model is geen modelkaart vastgelegd.",
      published_with: "{year}: berekend met v{version} (run {run})",
      no_runs: "Nog geen gepubliceerde berekening. Draai eerst `wijkradar score`.",
      run_info: "run {run} ({model} v{version}, {created})",
      compared_with: " \u00b7 vergeleken met run {run}",
      not_compared: " \u00b7 geen vorige run om mee te vergelijken",
      chart_failed: "Deze grafiek kon niet worden geladen."
    },
    en: {
      title: "wijkradar",
      lede: "Predicted probability of a decline of the Leefbarometer score per area, with the " +
        "factors behind each risk.",
      as_of: "As of", other_lang: "Nederlands", other_lang_title: "Deze pagina in het Nederlands",
      tab_ranking: "Ranking", tab_map: "Map", tab_model: "Model",
      loading: "Loading\u2026", empty: "No areas match this filter.",
      error: "Something went wrong: {message}",
      ranking: "Ranking",
      ranking_note: "Rank 1 is the highest risk nationally. \u0394 rank is the change since the " +
        "previous publication of the same as-of year (positive: moved up towards rank 1). The " +
        "top drivers are the features that raise the risk most.",
      bands: "Risk bands",
      gemeente: "Gemeente", all: "all gemeenten", search: "Search",
      search_placeholder: "code or name", download_csv: "Download CSV",
      download_xlsx: "Download Excel",
      col_rank: "rank", col_rank_change: "\u0394 rank", col_unit_name: "area",
      col_gemeente_name: "gemeente", col_risk: "risk", col_relative: "vs. average",
      col_band: "band", col_rank_in_gemeente: "rank in gemeente", col_top_drivers: "top drivers",
      prev: "\u2190 previous", next: "next \u2192",
      page_info: "{from}\u2013{to} of {total} areas{all} \u00b7 page {page}/{pages}",
      page_all: " (of {n})", page_none: "0 areas",
      new_top10: "new in top 10%", new_top10_title: "new in the top 10% since the previous run",
      change_new: "new",
      map: "Map", map_colour: "Colour by", colour_band: "risk band",
      colour_lbm: "Leefbarometer score", colour_change: "last Leefbarometer change",
      map_note: "Gemeente borders and names from the workspace's own boundaries. Scroll or " +
        "pinch to zoom, drag to pan; click an area for its explanation.",
      map_missing: "This workspace has no boundaries (boundaries/units.geojson), so no map.",
      zoom_in: "Zoom in", zoom_out: "Zoom out", zoom_reset: "Whole map",
      no_value: "no value", risk: "risk", band: "band", top_driver: "top driver",
      lbm: "Leefbarometer", change: "change",
      lbm_lowest: "lowest 20%", lbm_low: "20\u201340%", lbm_mid: "40\u201360%",
      lbm_high: "60\u201380%", lbm_highest: "highest 20%",
      chg_down_big: "decline \u2265 {delta}", chg_down: "slight decline", chg_same: "same",
      chg_up: "slight rise", chg_up_big: "rise \u2265 {delta}",
      back: "\u2190 back to the ranking", print: "Print fact sheet",
      fact_sheet: "Fact sheet", risk_label: "risk", relative_label: "vs. the average",
      band_label: "risk band", rank_label: "rank", rank_gemeente_label: "rank in gemeente",
      change_label: "since the previous run", run_label: "run",
      rank_of: "{rank} of {n}", top10: " (top 10%)", no_gemeente: "no gemeente known",
      no_previous: "no previous rank", rank_moved: "rank {from} \u2192 {to}",
      new_in_top10: ", new in the top 10%",
      panel_warning: "The panel was rebuilt after this run was scored: values and medians come " +
        "from the newer panel.",
      drivers_words: "What explains the risk", top_drivers: "Top drivers",
      by_domain: "Drivers by policy domain", raises: "raises the risk",
      lowers: "lowers the risk",
      waterfall_caption: "From the base value (log-odds) to this area's log-odds: each " +
        "feature's contribution, largest first; red raises the risk, blue lowers it.",
      features: "Features against the medians", feature: "feature", value: "value",
      gemeente_median: "gemeente (median)", national_median: "Netherlands (median)",
      contribution: "contribution",
      context: "Context (not in the model)",
      context_note: "Sources that cover only recent years: this area's profile against the " +
        "medians of its gemeente and the Netherlands. The model does not use them: the years " +
        "it was trained on do not have them.",
      lbm_history: "Leefbarometer score and dimensions over time",
      risk_history: "Risk in every published run",
      lbm_caption: "Leefbarometer: the last measurement at or before each as-of year; thin " +
        "lines: the dimensions.",
      risk_caption: "Grey dots: earlier runs of a year.",
      chart_none: "No data for this chart.",
      compare: "This area against its gemeente, similar areas and the Netherlands",
      compare_measure: "measure", compare_unit: "this area", compare_gemeente: "gemeente",
      compare_peers: "10 similar", compare_national: "Netherlands",
      peers: "The ten areas with the most similar profile",
      peer_name: "area", freshness: "How fresh the data are",
      model: "Model", model_version: "model of this ranking", model_run: "training run",
      model_created: "registered", quality: "Quality in plain words",
      quality_line: "{text} (test year {year}).",
      validation: "Validation",
      validation_note: "Temporal validation: each test year is predicted by a model trained on " +
        "earlier years only. LightGBM against simple rules; precision and recall in the top 10.",
      pr_caption: "Precision-recall on the last test year of the model of this as-of year; " +
        "dashed: the base rate.",
      shap_caption: "SHAP summary of the most important features, all areas of this year.",
      model_card: "Model card", no_card: "No model card was logged with this model.",
      published_with: "{year}: scored with v{version} (run {run})",
      no_runs: "No published scoring run yet. Run `wijkradar score` first.",
      run_info: "run {run} ({model} v{version}, {created})",
      compared_with: " \u00b7 compared with run {run}",
      not_compared: " \u00b7 no previous run to compare with",
      chart_failed: "This chart could not be loaded."
    }
  };
  var lang = new URLSearchParams(window.location.search).get("lang") === "en" ? "en" : "nl";

  function t(key, vars) {
    var text = TEXTS[lang][key];
    if (text === undefined) { text = TEXTS.nl[key] !== undefined ? TEXTS.nl[key] : key; }
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : "";
    });
  }

  // Fills every data-t* attribute below root.
  function apply(root) {
    var pairs = [["data-t", null], ["data-t-placeholder", "placeholder"],
      ["data-t-title", "title"], ["data-t-aria", "aria-label"]];
    pairs.forEach(function (pair) {
      root.querySelectorAll("[" + pair[0] + "]").forEach(function (el) {
        var text = t(el.getAttribute(pair[0]));
        if (pair[1]) { el.setAttribute(pair[1], text); } else { el.textContent = text; }
      });
    });
  }

  return { lang: lang, t: t, apply: apply, TEXTS: TEXTS };
}());
