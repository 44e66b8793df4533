"""Fetching the real sources over HTTP: CBS OData tables and Leefbaarometer downloads.

This package is an I/O edge, like ``features.sources``: it downloads, checks the result with
the readers the panel uses (``features.odata.parse_cbs_kwb_json``,
``features.readers.parse_lbm3_scores``) and keeps it only when it reads. Nothing partial is
left: every file is written into a hidden staging folder inside the output folder and renamed
into place (``features.fetch.staging``).

Modules:

* ``http``: the HTTP client (timeouts, retries, classified errors naming the table, the page
  and the status);
* ``cbs``: one CBS OData v3 table (``TableInfos``, ``DataProperties``, ``TypedDataSet`` through
  every ``odata.nextLink``) into the ``cbs_kwb_json`` form;
* ``kwb``: the built-in catalog of Kerncijfers wijken en buurten tables by year, and fetching
  several years with a ``[[source]]`` config fragment;
* ``leefbaarometer``: a Leefbaarometer open-data CSV, or a zip of CSVs.
"""

# CBS's bulk OData v3 feed: it pages with ``odata.nextLink`` (the root ``cbsodata`` downloads
# from). Here, not in ``cbs``, so that the CLI can show it without importing pandas and httpx.
DEFAULT_BASE_URL = "https://opendata.cbs.nl/ODataFeed/odata"
