"""Paper documents as PDF: a template (a file the bureau can adjust, under templates/print/) rendered to HTML, then
laid out on A4 by WeasyPrint, which embeds the subset of the system's CJK font the text uses (fonts-wqy-microhei;
print/base.html names the families it tries), so a printed or forwarded PDF reads the same on any machine.

WeasyPrint draws through the system's Pango; a server without it answers a document request with a clear error
(PdfUnavailable) rather than failing at start-up, so `make run` works on a laptop without it.
"""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

PDF_TYPE = "application/pdf"


class PdfUnavailable(RuntimeError):
    """The server cannot draw PDFs (WeasyPrint or the system's Pango is missing)."""


def render_pdf(template_name: str, context: dict, request=None) -> bytes:
    return html_to_pdf(render_to_string(template_name, context, request=request))


def _weasyprint():
    try:
        import weasyprint  # the system's Pango is loaded on import
    except (ImportError, OSError) as error:
        raise PdfUnavailable(str(error)) from error
    return weasyprint


def html_to_pdf(html: str) -> bytes:
    """No base URL: a print template carries its style inline and its images as data: URIs, so nothing is fetched."""
    return _weasyprint().HTML(string=html).write_pdf()


def join_pdfs(parts: list[bytes]) -> bytes:
    """Several PDFs as one, their pages in order: a batch laid out chunk by chunk, each chunk written at once so that
    memory holds one chunk's layout, not the whole batch's (a village's 500 forms in one layout took 2.5 GB)."""
    if len(parts) == 1:
        return parts[0]
    import pypdf

    writer = pypdf.PdfWriter()
    for part in parts:
        writer.append(pypdf.PdfReader(io.BytesIO(part)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_response(content: bytes, filename: str, *, as_attachment: bool = False) -> HttpResponse:
    """Opened in the browser's viewer (to print) unless `as_attachment`; a Chinese file name per RFC 5987."""
    response = HttpResponse(content, content_type=PDF_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=as_attachment, filename=filename)
    return response
