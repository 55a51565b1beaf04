"""Data logic behind the "Market pipeline" page of the Airflow UI: lag, windows, reports, freshness, bars.

Why a package of its own: the page's logic (lag arithmetic, throughput estimates, manifest and report
summaries, parameter validation, Athena polling) is plain Python, testable without Airflow or services.
The Airflow plugin in ``plugins/market_pipeline_plugin.py`` only mounts :func:`market_ui.app.create_app`.
"""
