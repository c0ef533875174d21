"""A GStreamer RTSP server for tests; run by Debian's /usr/bin/python3 (PyGObject is not in the venv).

Usage: rtsp_gst_server.py MODE USER PASSWORD, MODE one of open, basic, digest. Binds a free
127.0.0.1 port, prints "PORT <n>" and serves until its stdin closes (so it dies with its parent).
Mounts: /test (MJPEG test pattern) and /av (MJPEG + A-law audio).
"""

import os
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer

VIDEO = (
    "videotestsrc is-live=true ! video/x-raw,format=I420,width=160,height=120,framerate=5/1 "
    "! jpegenc ! rtpjpegpay name=pay0 pt=26"
)
MOUNTS = {
    "/test": f"( {VIDEO} )",
    "/av": f"( {VIDEO} audiotestsrc is-live=true ! alawenc ! rtppcmapay name=pay1 pt=8 )",
}


def role(name: str, construct: bool) -> Gst.Structure:
    flag = "true" if construct else "false"
    return Gst.Structure.new_from_string(
        f"{name}, media.factory.access=(boolean)true, media.factory.construct=(boolean){flag}"
    )


def main() -> None:
    mode, user, password = sys.argv[1:4]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")
    permissions = GstRtspServer.RTSPPermissions()
    # Anonymous may see the mounts but not build media: that yields the 401 a camera sends
    # (no access at all gives 404).
    permissions.add_role_from_structure(role("anonymous", construct=False))
    permissions.add_role_from_structure(role("user", construct=True))
    for path, launch in MOUNTS.items():
        factory = GstRtspServer.RTSPMediaFactory()
        # Not shared: a shared media is torn down when its last client leaves, and a DESCRIBE
        # arriving meanwhile gets 503 (seen under load, two checks in a row); one each is cheap.
        factory.set_shared(False)
        factory.set_launch(launch)
        if mode != "open":
            factory.set_permissions(permissions)
        server.get_mount_points().add_factory(path, factory)
    if mode != "open":
        auth = GstRtspServer.RTSPAuth()
        anonymous = GstRtspServer.RTSPToken()
        anonymous.set_string("media.factory.role", "anonymous")
        auth.set_default_token(anonymous)
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        if mode == "basic":
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        else:
            auth.add_digest(user, password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)
    server.attach(None)
    sys.stdout.write(f"PORT {server.get_bound_port()}\n")
    sys.stdout.flush()
    loop = GLib.MainLoop()

    def watch_parent() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
