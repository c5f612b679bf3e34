"""Routes of PI's Home and System controllers, and the simulator's own /health."""
from __future__ import annotations

from flask import Blueprint
from flask import g

from picommon import pitime
from .common import base
from .common import json_response
from .common import sim

bp = Blueprint("home", __name__)


@bp.get("/health")
def get_health():
    """Liveness for scripts and tests: 200 with the scenario name and the simulated clock."""
    s = sim()
    return {"status": "ok", "scenario": s.scenario.name, "now": pitime.format_time(s.now())}


@bp.get("/piwebapi")
@bp.get("/piwebapi/")
def get_home():
    """GET /piwebapi: the landing page with links to the top-level collections."""
    root = base()
    return json_response({"Links": {"Self": root + "/", "AssetServers": f"{root}/assetservers",
                                    "DataServers": f"{root}/dataservers", "System": f"{root}/system"}})


@bp.get("/piwebapi/system")
def get_system():
    s = sim()
    root = base() + "/system"
    return json_response({"ProductTitle": s.scenario.product_title, "ProductVersion": s.scenario.system_version,
                          "Links": {"Self": root, "UserInfo": f"{root}/userinfo", "Versions": f"{root}/versions",
                                    "Status": f"{root}/status"}})


@bp.get("/piwebapi/system/userinfo")
def get_userinfo():
    user = getattr(g, "pisim_user", None)
    if user is None:
        return json_response({"IdentityType": "WindowsIdentity", "ImpersonationLevel": "Anonymous",
                              "IsAuthenticated": False, "Name": "NT AUTHORITY\\ANONYMOUS LOGON", "SID": "S-1-5-7"})
    return json_response({"IdentityType": "GenericIdentity", "ImpersonationLevel": "None",
                          "IsAuthenticated": True, "Name": user, "SID": ""})


@bp.get("/piwebapi/system/versions")
def get_versions():
    version = sim().scenario.system_version
    major_minor = ".".join(version.split(".")[:3])
    return json_response({"OSIsoft.REST.Core": {"FullVersion": version, "MajorMinorRevision": major_minor,
                                                 "Build": version.split(".")[-1]}})


@bp.get("/piwebapi/system/status")
def get_status():
    s = sim()
    uptime = max(0, pitime.now_ticks() - s.started) / pitime.TICKS_PER_SECOND / 60
    return json_response({"UpTimeInMinutes": round(uptime, 3), "State": "Running", "CacheInstances": 0,
                          "ServerTime": pitime.format_time(s.now())})
