package files

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"

	"github.com/duplex-chat/duplex/shared"
	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// A format is one image type an upload may be: how to read its
// dimensions and how to decode it. Each is picked by the sniffed type,
// so bytes are only ever decoded as what they look like.
type format struct {
	name   string
	config func(r *bytes.Reader) (image.Config, error)
	decode func(r *bytes.Reader) (image.Image, error)
}

var formats = map[string]format{
	"image/png": {"PNG",
		func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) },
		func(r *bytes.Reader) (image.Image, error) { return png.Decode(r) }},
	"image/jpeg": {"JPEG",
		func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) },
		func(r *bytes.Reader) (image.Image, error) { return jpeg.Decode(r) }},
	"image/gif": {"GIF", // an animated GIF's thumbnail is its first frame
		func(r *bytes.Reader) (image.Config, error) { return gif.DecodeConfig(r) },
		func(r *bytes.Reader) (image.Image, error) { return gif.Decode(r) }},
	"image/webp": {"WebP",
		func(r *bytes.Reader) (image.Config, error) { return webp.DecodeConfig(r) },
		func(r *bytes.Reader) (image.Image, error) { return webp.Decode(r) }},
}

// Inspect sniffs data's type from its content (http.DetectContentType:
// the name is never looked at), accepts PNG, JPEG, GIF and WebP only, and
// reads the dimensions from the header, refusing an image of more than
// shared.MaxImagePixels before anything is decoded.
func Inspect(data []byte) (typ string, width, height int, err error) {
	if len(data) == 0 {
		return "", 0, 0, shared.Errorf(shared.CodeInvalid, "the upload is empty")
	}
	if len(data) > shared.MaxImageBytes {
		return "", 0, 0, shared.Errorf(shared.CodeTooLarge, "the image is %d bytes, the limit is %d", len(data), shared.MaxImageBytes)
	}
	typ = http.DetectContentType(data)
	f, ok := formats[typ]
	if !ok {
		return "", 0, 0, shared.Errorf(shared.CodeInvalid, "the file is %s, not an image: only PNG, JPEG, GIF and WebP images may be uploaded", typ)
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return "", 0, 0, shared.Errorf(shared.CodeInvalid, "the file starts like a %s image but is not a valid one: %v", f.name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", 0, 0, shared.Errorf(shared.CodeInvalid, "the image has no pixels (%d×%d)", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > shared.MaxImagePixels {
		return "", 0, 0, shared.Errorf(shared.CodeTooLarge, "the image is %d×%d pixels, more than the limit of %d megapixels", cfg.Width, cfg.Height, shared.MaxImagePixels/1_000_000)
	}
	return typ, cfg.Width, cfg.Height, nil
}

// thumbType is the type a thumbnail of typ is encoded as: JPEG for
// photos, PNG for the rest (it keeps transparency).
func thumbType(typ string) string {
	if typ == "image/jpeg" {
		return "image/jpeg"
	}
	return "image/png"
}

// Thumbnail decodes data, which Inspect accepted as typ, and encodes its
// thumbnail (always re-encoded, even when no smaller: what a browser
// shows in the message list is then bytes this server wrote). A file
// whose header is valid but whose pixels are not (truncated, garbage
// after the header) fails here.
func Thumbnail(data []byte, typ string) ([]byte, error) {
	f := formats[typ]
	src, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, shared.Errorf(shared.CodeInvalid, "the file is not a valid %s image: %v", f.name, err)
	}
	b := src.Bounds()
	w, h := shared.ThumbSize(b.Dx(), b.Dy())
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if thumbType(typ) == "image/jpeg" {
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, dst)
	}
	if err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
