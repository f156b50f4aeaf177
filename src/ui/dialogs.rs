//! Native file dialogs. The only module that uses rfd, so tests (which must never open a
//! blocking dialog) drive the same code through the functions the dialogs feed.

use std::path::PathBuf;

/// Asks for one file; `filters` are (name, extensions without dots). `None` when cancelled
/// or when no dialog backend (xdg portal) is available.
pub fn pick_file(title: &str, filters: &[(&str, &[&str])]) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new().set_title(title);
    for (name, extensions) in filters {
        dialog = dialog.add_filter(*name, extensions);
    }
    dialog.pick_file()
}

/// Asks for one folder. `None` when cancelled or no dialog backend is available.
pub fn pick_folder(title: &str) -> Option<PathBuf> {
    rfd::FileDialog::new().set_title(title).pick_folder()
}
