"""What the HMIS service answers: an export run as the admins read it.
(Requests are checked by `domain.validate_mapping` and the service; the gateway
documents both in its OpenAPI document, gateway/routes/hmis.py.)"""
from __future__ import annotations

from hmis.models import ExportRun


def run_view(run: ExportRun, full=True) -> dict:
    view = {"id": str(run.id), "trigger": run.trigger, "requested_by": run.requested_by,
            "period": run.period, "dry_run": run.dry_run, "all": run.send_all,
            "status": run.status, "created_at": run.created_at.isoformat()
            if run.created_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "values_sent": run.values_sent,
            "import_count": {"imported": run.imported, "updated": run.updated,
                             "ignored": run.ignored, "deleted": run.deleted},
            "conflict_count": len(run.conflicts or []), "error": run.error}
    if full:
        view.update(conflicts=run.conflicts or [], skipped=run.skipped or [],
                    payloads=run.payloads or [])
    return view
