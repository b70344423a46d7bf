//! A bounded list of warnings: a report with a million odd values says so once per kind of
//! oddity, not a million times.

const MAX_WARNINGS: usize = 50;

#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<String>,
    dropped: u64,
}

impl Warnings {
    pub(crate) fn push(&mut self, warning: String) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(warning);
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn as_slice(&self) -> &[String] {
        &self.list
    }

    pub(crate) fn into_vec(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list
                .push(format!("... and {} more warnings", self.dropped));
        }
        self.list
    }
}
