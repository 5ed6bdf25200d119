"""The demo's mail: each email printed whole, for a person to read and click.

Django's console backend prints the message as it would travel, so a long link is
cut by quoted-printable soft line breaks ("=\\n") and cannot be clicked. This one
prints the headers people read and the plain-text body decoded."""

from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class EmailBackend(ConsoleBackend):
    def write_message(self, message):
        msg = message.message()
        lines = [f"{name}: {msg[name]}" for name in ("From", "To", "Subject", "Date") if msg[name]]
        body = message.body
        for part in msg.walk():
            if part.get_content_type() == "text/plain" and not part.is_multipart():
                body = part.get_content()
                break
        self.stream.write("\n".join(lines) + "\n\n" + body.rstrip("\n") + "\n")
        self.stream.write("-" * 79 + "\n")
