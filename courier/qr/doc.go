// Package qr carries an artefact as AGX1 frames: QR codes on screen, on paper
// or in image files, or text typed from paper.
//
// The frame format is normative in reference/qr-frames.md:
//
//	AGX1:<K><F>:<i>/<n>:<ID>:<DATA>:<CRC>
//
// [Encode] turns an artefact's text into the fewest frames that fit a QR
// version cap at level M; [Assembler] puts frames back together in any order;
// [PNG], [Image] and [WriteSheet] render frames; [Scanner] finds frames in
// PNG and JPEG images, frame files and typed text. [WriteDir] is the one call
// other packages need to write a directory of codes for an artefact.
//
// Package qr may import courier; it must never import pep, azure, app, ui or
// Fyne.
package qr
