"""Video appointments: one meeting room per appointment on the school's Jitsi Meet
server, the call pages and the camera check (docs/video.md)."""
