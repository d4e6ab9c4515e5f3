//! ApiVersions negotiation: for each API, the highest version both sides speak.

use std::collections::BTreeMap;

use crate::protocol::messages::ApiVersionsResponse;
use crate::protocol::ApiKey;

/// The versions a broker advertised and the version chosen for each API this client uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiVersions {
    /// What the broker advertised: key → (min, max), including APIs this client does not know.
    pub broker: BTreeMap<i16, (i16, i16)>,
    /// Chosen version for each API both sides speak.
    pub chosen: BTreeMap<ApiKey, i16>,
    /// Cluster-wide finalized feature levels (KIP-584), e.g. `transaction.version` → 2.
    pub finalized_features: BTreeMap<String, i16>,
}

impl ApiVersions {
    /// Negotiate from a broker's ApiVersions response.
    pub fn negotiate(response: &ApiVersionsResponse) -> Self {
        let broker: BTreeMap<i16, (i16, i16)> = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        let mut chosen = BTreeMap::new();
        for api in ApiKey::ALL {
            let (our_lo, our_hi) = api.supported_versions();
            if let Some(&(lo, hi)) = broker.get(&(*api as i16)) {
                let v = our_hi.min(hi);
                if v >= our_lo.max(lo) {
                    chosen.insert(*api, v);
                }
            }
        }
        let finalized_features = if response.finalized_features_epoch >= 0 {
            response
                .finalized_features
                .iter()
                .map(|f| (f.name.clone(), f.max_version_level))
                .collect()
        } else {
            BTreeMap::new()
        };
        ApiVersions {
            broker,
            chosen,
            finalized_features,
        }
    }

    /// The finalized level of a cluster feature (0 when the broker does not report it).
    pub fn feature_level(&self, name: &str) -> i16 {
        self.finalized_features.get(name).copied().unwrap_or(0)
    }

    /// The version to use for `api`, if both sides speak one.
    pub fn version(&self, api: ApiKey) -> Option<i16> {
        self.chosen.get(&api).copied()
    }

    /// Describe what the broker advertised for `api`, for error messages.
    pub fn describe_broker(&self, api: ApiKey) -> String {
        match self.broker.get(&(api as i16)) {
            Some((lo, hi)) => format!("{lo}..={hi}"),
            None => "not advertised".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::api_versions_response::ApiVersion;

    fn resp(keys: &[(i16, i16, i16)]) -> ApiVersionsResponse {
        ApiVersionsResponse {
            api_keys: keys
                .iter()
                .map(|&(api_key, min_version, max_version)| ApiVersion {
                    api_key,
                    min_version,
                    max_version,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn picks_the_highest_common_version() {
        let v = ApiVersions::negotiate(&resp(&[(3, 0, 99), (0, 0, 9), (1, 0, 3)]));
        assert_eq!(
            v.version(ApiKey::Metadata),
            Some(ApiKey::Metadata.supported_versions().1)
        );
        assert_eq!(v.version(ApiKey::Produce), Some(9));
        // Fetch v0-3 does not overlap our 4..: unsupported.
        assert_eq!(v.version(ApiKey::Fetch), None);
        assert_eq!(v.describe_broker(ApiKey::Fetch), "0..=3");
        assert_eq!(v.version(ApiKey::EndTxn), None);
        assert_eq!(v.describe_broker(ApiKey::EndTxn), "not advertised");
    }
}
