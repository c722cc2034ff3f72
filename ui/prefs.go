package ui

// Preference keys. Values read from preferences are copied into app's
// request structs; app never sees Fyne preferences.
const (
	prefSide         = "side"          // last side chosen on the start screen
	prefAppearance   = "appearance"    // "system", "light" or "dark"
	prefTextSize     = "text.size"     // "100 %" … "175 %"
	prefWindowWidth  = "window.width"  // last window size
	prefWindowHeight = "window.height" //
	prefExportFolder = "folder.export" // last folder artefacts were saved to
	prefImportFolder = "folder.import" // last folder artefacts were opened from
	prefPEPHosts     = "pep.hosts"     // ERCS addresses that last worked
	prefPEPUser      = "pep.user"      // DOMAIN\CloudAdmin
	prefAzureCloud   = "azure.cloud"   // cloud name
	prefAzureMethod  = "azure.method"  // sign-in method
	prefAzureTenant  = "azure.tenant"  // tenant ID
	prefQRSpeed      = "qr.speed"      // codes a second in the animated QR view
)
